import { ServiceError } from './errors.js';
import { isRetryableStatus } from './retry.js';
import { checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';

/**
 * Marks an item as failed across copies of this module (the ESM and CommonJS builds both
 * loaded): `instanceof` alone would miss a marker made by the other copy.
 */
const BRAND = Symbol.for('sluice.ItemFailure');

/** An item of a batch that the service did not process; made by `itemFailed()`. */
export class ItemFailure {
  /** Why the item failed; `retries.retryOn` judges it as it judges a failed call's error. */
  readonly error: unknown;
  // Nominal, so a result type that happens to have an `error` field is not taken for one.
  readonly #item = true;

  constructor(error: unknown) {
    this.error = error;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown): value is ItemFailure {
    if (typeof value !== 'object' || value === null) return false;
    return (#item in value && value.#item) || (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export interface ItemFailedOptions {
  /**
   * Whether another attempt may help this item (the service was busy, a lock timed out).
   * @default from `status` when given; else `retries.retryOn` judges the reason (an
   * `Error` with `retryable: true` or a retryable `status` is retried; a string is not)
   */
  retryable?: boolean;
  /** The item's HTTP-like status (429, 503, 400, …), judged like a call's status; 429 counts as throttling. */
  status?: number;
  /** The wait the service asked for before this item is sent again: whole seconds or an HTTP date (as `Retry-After`). */
  retryAfter?: string | number;
}

/** The option names itemFailed() accepts (an unknown one is a TypeError). */
const ITEM_FAILED_OPTIONS = optionNames<ItemFailedOptions>('itemFailed()', { retryable: true, status: true, retryAfter: true });

/**
 * Marks one result of a service call as failed: return it in the item's place in the
 * result array and `callService` sends only the failed items again (as retries, with
 * backoff, in a later call), passes the others on once, and fails or rejects the items
 * that still fail after their retries. Without options an `Error` is kept as it is; a
 * string (or an answer's error object) becomes a `ServiceError` of kind `'item'` with the
 * reason as its message.
 *
 * @param reason Why the item failed: an `Error`, a message, or the service's error object.
 * @example
 * // An API that answers { items: [{ id, owner } | { error, status }] }
 * postJson(url, {
 *   results: (body) => (body as Answer).items.map((item) =>
 *     'error' in item ? itemFailed(item.error, { status: item.status }) : item),
 * })
 */
export function itemFailed(reason: unknown, options: ItemFailedOptions = {}): ItemFailure {
  return named('itemFailed()', () => {
    const o = checkOptions('options', options, ITEM_FAILED_OPTIONS) as ItemFailedOptions;
    if (o.retryable !== undefined && typeof o.retryable !== 'boolean') fail('retryable', 'a boolean', o.retryable);
    const status = o.status === undefined ? undefined : checkInteger('status', o.status, 100);
    if (typeof o.retryAfter === 'number') checkInteger('retryAfter', o.retryAfter, 0);
    else if (o.retryAfter !== undefined && typeof o.retryAfter !== 'string') fail('retryAfter', 'whole seconds or an HTTP date', o.retryAfter);
    if (reason instanceof Error && o.retryable === undefined && status === undefined && o.retryAfter === undefined) return new ItemFailure(reason);
    return new ItemFailure(new ServiceError(messageOf(reason), {
      kind: 'item',
      retryable: o.retryable ?? (status === undefined ? isRetryableReason(reason) : isRetryableStatus(status)),
      status,
      retryAfter: o.retryAfter === undefined ? undefined : String(o.retryAfter),
      cause: reason,
    }));
  });
}

/** A reason given without `retryable` or `status` keeps its own flag (an Error's `retryable`). */
function isRetryableReason(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { retryable?: unknown }).retryable === true;
}

/** One line for the reason: a message, or the `message` / `error` / `reason` of a service's error object. */
function messageOf(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'object' && reason !== null) {
    for (const field of ['message', 'error', 'reason', 'detail'] as const) {
      const value = (reason as Record<string, unknown>)[field];
      if (typeof value === 'string' && value !== '') return value;
    }
    try {
      const json = JSON.stringify(reason);
      if (json !== undefined) return json.length > 200 ? `${json.slice(0, 199)}…` : json;
    } catch {
      // a cycle: fall through
    }
  }
  return String(reason);
}
