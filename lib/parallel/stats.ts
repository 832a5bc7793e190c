/**
 * The counts of a `parallel.map` stage (as every stage's) plus where its time went, so a
 * user can tell whether the threads pay: the function's own cost per row, measured inside
 * the workers, against the cost of moving a row there and back.
 */
import type { StageStats } from '../core/stage.js';

export class ParallelStats implements StageStats {
  in = 0;
  out = 0;
  filtered = 0;
  rejected = 0;
  /** Batches run to the end (a retried batch counts once). */
  batches = 0;
  /** Batches run again after their worker died. */
  retried = 0;
  /** Of `batches`, those the main thread ran itself (`mainThread`). */
  mainBatches = 0;
  /** Rows the workers ran, and the milliseconds spent in the function on them. */
  rowsRun = 0;
  fnMs = 0;
  /**
   * Over the batches of warm workers (a worker's first batch includes its start-up): rows,
   * and the milliseconds of their round trips not spent in the function — packing, copying
   * between threads, unpacking, waking the worker, the main thread's delay in taking the
   * result — not counting time a batch waited behind the worker's previous one.
   */
  timedRows = 0;
  transferMs = 0;

  /** Microseconds of function work per row. */
  get fnMicrosPerRow(): number {
    return this.rowsRun === 0 ? 0 : (this.fnMs * 1000) / this.rowsRun;
  }

  /** Microseconds per row of moving rows to a worker and back. */
  get transferMicrosPerRow(): number {
    return this.timedRows === 0 ? 0 : (this.transferMs * 1000) / this.timedRows;
  }

  /**
   * Whether running the function inline (`map`) would likely be faster: the main thread
   * pays the transfer for every row, so threads pay only when a row's work costs more.
   */
  get inlineFaster(): boolean {
    return this.rowsRun > 0 && this.fnMicrosPerRow < this.transferMicrosPerRow;
  }

  /** One line on the above, for logs. */
  get advice(): string {
    const fn = this.fnMicrosPerRow.toFixed(1);
    const transfer = this.transferMicrosPerRow.toFixed(1);
    return this.inlineFaster
      ? `the function costs ${fn} µs a row but moving a row to a worker and back costs ${transfer} µs: map() inline would likely be faster`
      : `the function costs ${fn} µs a row, moving a row costs ${transfer} µs: the threads pay`;
  }
}
