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
