import type { Origin } from '../core/origin.js';

/**
 * A batch (or, for parallel.csv, a byte range) could not be run: its worker died (`process.exit`, out of memory under
 * `resourceLimits`, a crash) or ran past `timeout`, and no retry was left, or the module
 * could not be loaded.
 * Names the batch and its rows; `cause` is the worker's error.
 */
export class WorkerError extends Error {
  override name = 'WorkerError';
  constructor(
    readonly stage: string,
    /** 1-based number of the batch (parallel.csv: of the range) within the stage. */
    readonly batch: number,
    /** 1-based numbers (within the stage) of the batch's first and last row (parallel.csv: 0, not known). */
    readonly firstRow: number,
    readonly lastRow: number,
    /** Where the batch's first row was read from, when known. */
    readonly first: Origin | undefined,
    /** How many times the batch was run. */
    readonly attempts: number,
    reason: string,
    cause?: unknown,
    /** What failed, when not a batch of known rows: parallel.csv's `range 3 of 40 (bytes …, from … line …)`. */
    what = `batch ${batch} (rows ${firstRow}-${lastRow}${first ? `, from ${first.source} line ${first.line}` : ''})`,
  ) {
    super(
      `${stage} failed on ${what}` +
        `${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }
}
