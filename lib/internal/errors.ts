import { describeOrigin, type Origin } from './origin.js';

/** A user function failed on one row, or a row could not be processed by a stage. */
export class RowError extends Error {
  override name = 'RowError';
  /** The stage that failed, e.g. `map(addDays)`. */
  readonly stage: string;
  /** 1-based number of the row within the rows that reached this stage. */
  readonly row: number;
  /** Where the row was read from, when known. */
  readonly source?: string;
  readonly line?: number;

  constructor(stage: string, row: number, origin: Origin | undefined, reason: string, cause?: unknown) {
    super(`${stage} failed on row ${row}${describeOrigin(origin)}: ${reason}`, cause === undefined ? undefined : { cause });
    this.stage = stage;
    this.row = row;
    if (origin) {
      this.source = origin.source;
      this.line = origin.line;
    }
  }
}

/** Input that is not valid CSV, or a row that breaks the configured limits. */
export class CsvError extends Error {
  override name = 'CsvError';
  readonly source: string;
  readonly line: number;

  constructor(source: string, line: number, reason: string, cause?: unknown) {
    super(`${source}, line ${line}: ${reason}`, cause === undefined ? undefined : { cause });
    this.source = source;
    this.line = line;
  }
}

/** More rows were rejected than `maxRejects` allows. */
export class RejectLimitError extends Error {
  override name = 'RejectLimitError';
  constructor(readonly maxRejects: number, readonly last: Error) {
    super(`more than ${maxRejects} row(s) rejected; the last: ${last.message}`, { cause: last });
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export function reasonOf(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/** The pipeline was cancelled through its `AbortSignal`; `cause` is the signal's reason. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(reason?: unknown) {
    super('The operation was aborted', { cause: reason });
  }
}

/** What went wrong in a call to a service: an HTTP status, the network, a timeout, or its answer. */
export type ServiceErrorKind = 'status' | 'network' | 'timeout' | 'response';

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

/**
 * A batch (or, after poison-row isolation, part of one) failed for good in a service
 * stage. The message names the batch, its rows within the stage and their source lines;
 * `cause` is the last attempt's error.
 */
export class BatchError extends Error {
  override name = 'BatchError';
  readonly stage: string;
  /** 1-based number of the batch within the stage. */
  readonly batch: number;
  /** 1-based numbers (within the stage) of the first and last row of the failed rows. */
  readonly firstRow: number;
  readonly lastRow: number;
  /** Where the first and last failed rows were read from, when known. */
  readonly first?: Origin;
  readonly last?: Origin;
  /** Calls made for these rows before giving up. */
  readonly attempts: number;

  constructor(stage: string, batch: number, rows: { first: number; last: number; firstOrigin?: Origin; lastOrigin?: Origin }, attempts: number, reason: string, cause?: unknown) {
    const span = rows.first === rows.last ? `row ${rows.first}` : `rows ${rows.first}–${rows.last}`;
    super(`${stage} failed on batch ${batch} (${span}${describeSpan(rows.firstOrigin, rows.lastOrigin)}) after ${attempts} attempt(s): ${reason}`, cause === undefined ? undefined : { cause });
    this.stage = stage;
    this.batch = batch;
    this.firstRow = rows.first;
    this.lastRow = rows.last;
    if (rows.firstOrigin) this.first = rows.firstOrigin;
    if (rows.lastOrigin) this.last = rows.lastOrigin;
    this.attempts = attempts;
  }
}

function describeSpan(first: Origin | undefined, last: Origin | undefined): string {
  if (!first || !last) return describeOrigin(first ?? last).replace(/^ \((.*)\)$/, '; $1');
  if (first.source === last.source) {
    return first.line === last.line ? `; ${first.source}, line ${first.line}` : `; ${first.source}, lines ${first.line}–${last.line}`;
  }
  return `; ${first.source}, line ${first.line} to ${last.source}, line ${last.line}`;
}
