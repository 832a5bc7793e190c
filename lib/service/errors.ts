import { describeOrigin, type Origin } from '../core/origin.js';

/**
 * What went wrong in a call to a service: an HTTP status, the network, a timeout, its
 * answer, or one item of an answer that succeeded otherwise (`itemFailed()`).
 */
export type ServiceErrorKind = 'status' | 'network' | 'timeout' | 'response' | 'item';

/**
 * A call to an external service failed. `retryable` tells `callService` whether another
 * attempt may help; `retryAfter` is the service's `Retry-After` header when it sent one.
 * Messages name the method and URL without credentials or query string, never headers.
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  readonly kind: ServiceErrorKind;
  readonly retryable: boolean;
  /** The HTTP status, for `kind: 'status'`. */
  readonly status?: number;
  /** The `Retry-After` header as sent (seconds or an HTTP date). */
  readonly retryAfter?: string;

  constructor(message: string, options: { kind: ServiceErrorKind; retryable: boolean; status?: number; retryAfter?: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind;
    this.retryable = options.retryable;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }
}

/** Rows `first`–`last` (1-based, within the stage) and where they were read from. */
export interface RowRange {
  readonly first: number;
  readonly last: number;
  readonly firstOrigin?: Origin;
  readonly lastOrigin?: Origin;
}

/** The most ranges a message lists; the rest are counted. */
const LISTED = 10;

/**
 * A batch (or, after poison-row isolation or per-item failures, some of its rows) failed
 * for good in a service stage. The message names the batch, its failed rows within the
 * stage and their source lines; `cause` is the last attempt's error (of the first failed
 * rows, when several parts failed for different reasons).
 */
export class BatchError extends Error {
  override name = 'BatchError';
  readonly stage: string;
  /** 1-based number of the batch within the stage. */
  readonly batch: number;
  /** 1-based numbers (within the stage) of the first and last row of the failed rows. */
  readonly firstRow: number;
  readonly lastRow: number;
  /** The failed rows as ranges of row numbers, in order: one unless rows in between succeeded. */
  readonly ranges: readonly { readonly first: number; readonly last: number }[];
  /** Where the first and last failed rows were read from, when known. */
  readonly first?: Origin;
  readonly last?: Origin;
  /** Calls made for these rows before giving up (the most, when several parts failed). */
  readonly attempts: number;

  constructor(stage: string, batch: number, rows: RowRange | readonly RowRange[], attempts: number, reason: string, cause?: unknown) {
    const ranges: readonly RowRange[] = isRanges(rows) ? rows : [rows];
    const head = ranges[0];
    const tail = ranges[ranges.length - 1];
    const where = ranges.length === 1 ? `${rowsText(ranges)}${describeSpan(head.firstOrigin, head.lastOrigin)}` : describeRanges(ranges);
    super(`${stage} failed on batch ${batch} (${where}) after ${attempts} attempt(s): ${reason}`, cause === undefined ? undefined : { cause });
    this.stage = stage;
    this.batch = batch;
    this.firstRow = head.first;
    this.lastRow = tail.last;
    this.ranges = ranges.map(({ first, last }) => ({ first, last }));
    if (head.firstOrigin) this.first = head.firstOrigin;
    if (tail.lastOrigin) this.last = tail.lastOrigin;
    this.attempts = attempts;
  }
}

const isRanges = (rows: RowRange | readonly RowRange[]): rows is readonly RowRange[] => Array.isArray(rows);

const dash = (a: number, b: number): string => (a === b ? String(a) : `${a}–${b}`);

/** "row 3", "rows 7–9", "rows 3, 7–8" (at most ten ranges listed). */
export function rowsText(ranges: readonly { readonly first: number; readonly last: number }[]): string {
  const one = ranges.length === 1 && ranges[0].first === ranges[0].last;
  const more = ranges.length > LISTED ? `, … (${ranges.reduce((n, r) => n + r.last - r.first + 1, 0)} rows in all)` : '';
  return `${one ? 'row' : 'rows'} ${ranges.slice(0, LISTED).map((r) => dash(r.first, r.last)).join(', ')}${more}`;
}

/** "rows 3, 7–8; in.csv, lines 4, 8–9", the lines only when every row's source is known and the same. */
function describeRanges(ranges: readonly RowRange[]): string {
  let text = rowsText(ranges);
  const source = ranges[0].firstOrigin?.source;
  if (source !== undefined && ranges.every((r) => r.firstOrigin?.source === source && r.lastOrigin?.source === source)) {
    const lines = ranges.slice(0, LISTED).map((r) => dash(r.firstOrigin!.line, r.lastOrigin!.line));
    text += `; ${source}, lines ${lines.join(', ')}${ranges.length > LISTED ? ', …' : ''}`;
  }
  return text;
}

function describeSpan(first: Origin | undefined, last: Origin | undefined): string {
  if (!first || !last) return describeOrigin(first ?? last).replace(/^ \((.*)\)$/, '; $1');
  if (first.source === last.source) {
    return first.line === last.line ? `; ${first.source}, line ${first.line}` : `; ${first.source}, lines ${first.line}–${last.line}`;
  }
  return `; ${first.source}, line ${first.line} to ${last.source}, line ${last.line}`;
}
