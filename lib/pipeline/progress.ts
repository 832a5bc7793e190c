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
  /** Time since `run()` was called. */
  elapsedMs: number;
  /** Rows read per second so far. */
  rowsPerSecond: number;
  /** Time left at the rate so far, when `bytesTotal` is known. */
  etaMs?: number;
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
 * Calls `report` with a snapshot whenever `tick()` finds `everyMs` passed since the last
 * call (the source gate ticks once per row or batch read), and once more on `end()`.
 */
export class ProgressReporter {
  private last: number;

  constructor(
    private readonly report: (progress: Progress) => void,
    private readonly everyMs: number,
    private readonly counts: Counts,
    private readonly source: unknown,
    private readonly started: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = started;
  }

  /** Set by run(): how a progress callback that throws fails the pipeline. */
  onError: (error: unknown) => void = () => {};

  readonly tick = (): void => {
    const at = this.now();
    if (at - this.last < this.everyMs) return;
    this.last = at;
    try {
      this.report(this.snapshot(at, false));
    } catch (error) {
      this.onError(error);
    }
  };

  end(): void {
    this.report(this.snapshot(this.now(), true));
  }

  private snapshot(at: number, done: boolean): Progress {
    const elapsedMs = Math.round(at - this.started);
    const read = this.counts.read();
    const progress: Progress = { read, written: this.counts.written(), rejected: this.counts.rejected(), elapsedMs, rowsPerSecond: elapsedMs > 0 ? Math.round((read * 1000) / elapsedMs) : 0, done };
    const bytesRead = isStage(this.source) ? (this.source as { bytesIn?: unknown }).bytesIn : undefined;
    if (typeof bytesRead === 'number') {
      progress.bytesRead = bytesRead;
      // A source that knows its size says so (csv.read of a path, once the file is open).
      const bytesTotal = (this.source as { bytesTotal?: unknown }).bytesTotal;
      if (typeof bytesTotal === 'number') {
        progress.bytesTotal = bytesTotal;
        progress.etaMs = done ? 0 : bytesRead > 0 ? Math.max(0, Math.round((elapsedMs * (bytesTotal - bytesRead)) / bytesRead)) : undefined;
        if (progress.etaMs === undefined) delete progress.etaMs;
      }
    }
    return progress;
  }
}
