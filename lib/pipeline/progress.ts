import { isStage } from '../core/stage.js';

/** What `run(…, { progress })` reports, at most every `progressMs` and once at the end. */
export interface Progress {
  /** Rows read from the source so far (as `Summary.read`). */
  read: number;
  /** Rows that reached the sink so far. */
  written: number;
  /** Rows rejected so far. */
  rejected: number;
  /** Bytes the source has read, when it reads bytes (`csv.read`, `csv.parse` first). */
  bytesRead?: number;
  /** The source's size in bytes, when it knows it (a file read by `csv.read(path)`, once open). */
  bytesTotal?: number;
  /**
   * The source's own estimate of its row count, when it has one: for `postgres.query` on a
   * pool or connection string, the planner's (`EXPLAIN`, asked once before the cursor opens,
   * only when progress is requested). An estimate: `read` may end above or below it.
   */
  rowsEstimate?: number;
  /** Time since `run()` was called. */
  elapsedMs: number;
  /** Rows read per second so far. */
  rowsPerSecond: number;
  /** Time left at the rate so far, when `bytesTotal` (or else `rowsEstimate`) is known. */
  etaMs?: number;
  /**
   * How long no row has been read, as seen by the reports (so to within `progressMs`):
   * 0 while rows flow; a source or sink that hangs shows here, since reports go on.
   */
  stalledMs: number;
  /** True for the last call, made when the pipeline has settled (also when it failed). */
  done: boolean;
}

/** The counts a snapshot is made of, read live from the pipeline. */
export interface Counts {
  read(): number;
  written(): number;
  rejected(): number;
}

/**
 * Calls `report` with a snapshot every `everyMs` (a timer, so that a pipeline where no row
 * moves still reports, and no row pays for a clock read) and once more on `end()`.
 */
export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastRead = 0;
  private lastReadAt: number;

  constructor(
    private readonly report: (progress: Progress) => void,
    private readonly everyMs: number,
    private readonly counts: Counts,
    private readonly source: unknown,
    private readonly started: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastReadAt = started;
  }

  /** Set by run(): how a progress callback that throws fails the pipeline. */
  onError: (error: unknown) => void = () => {};

  /** Starts the timer (unref'd: it never keeps the process alive). */
  start(): void {
    this.timer = setInterval(this.tick, Math.max(1, this.everyMs)).unref();
  }

  /** One report (the timer's). */
  readonly tick = (): void => {
    try {
      this.report(this.snapshot(this.now(), false));
    } catch (error) {
      this.onError(error);
    }
  };

  end(): void {
    clearInterval(this.timer);
    this.report(this.snapshot(this.now(), true));
  }

  private snapshot(at: number, done: boolean): Progress {
    const elapsedMs = Math.round(at - this.started);
    const read = this.counts.read();
    if (read !== this.lastRead) {
      this.lastRead = read;
      this.lastReadAt = at;
    }
    const stalledMs = done ? 0 : Math.round(at - this.lastReadAt);
    const progress: Progress = { read, written: this.counts.written(), rejected: this.counts.rejected(), elapsedMs, rowsPerSecond: elapsedMs > 0 ? Math.round((read * 1000) / elapsedMs) : 0, stalledMs, done };
    const bytesRead = isStage(this.source) ? (this.source as { bytesIn?: unknown }).bytesIn : undefined;
    if (typeof bytesRead === 'number') {
      progress.bytesRead = bytesRead;
      // A source that knows its size says so (csv.read of a path, once the file is open).
      const bytesTotal = (this.source as { bytesTotal?: unknown }).bytesTotal;
      if (typeof bytesTotal === 'number') {
        progress.bytesTotal = bytesTotal;
        const etaMs = eta(elapsedMs, bytesRead, bytesTotal, done);
        if (etaMs !== undefined) progress.etaMs = etaMs;
      }
    }
    const rowsEstimate = isStage(this.source) ? (this.source as { rowsEstimate?: unknown }).rowsEstimate : undefined;
    if (typeof rowsEstimate === 'number') {
      progress.rowsEstimate = rowsEstimate;
      const etaMs = progress.bytesTotal === undefined ? eta(elapsedMs, read, rowsEstimate, done) : undefined;
      if (etaMs !== undefined) progress.etaMs = etaMs;
    }
    return progress;
  }
}

/** Time left at the rate so far, with `part` of `total` done (0 once done; unknown before any). */
function eta(elapsedMs: number, part: number, total: number, done: boolean): number | undefined {
  if (done) return 0;
  return part > 0 ? Math.max(0, Math.round((elapsedMs * (total - part)) / part)) : undefined;
}
