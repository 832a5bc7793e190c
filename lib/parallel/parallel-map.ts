/**
 * The `parallel.map` stage: rows are gathered into batches of about `batchBytes`, or for a slow function
 * of about BATCH_MS of its work (filling-batch.ts), each
 * batch runs on a worker thread (pool.ts, worker.ts) — or, with `mainThread`, when every
 * worker already has two, on the main thread (run-rows.ts) — and the results leave in input
 * order (or, `ordered: false`, a batch's rows as soon as it is done).
 *
 * Invariants: at most `threads × 2` batches are in flight at the workers (with
 * `mainThread`, MAIN_AHEAD more the main thread ran) and one more is being filled; a
 * write's callback is held back while that many are out or the output buffer is full, so
 * backpressure reaches upstream; a done batch's rows are passed on only while the output
 * buffer is below its high-water mark, so the stage holds at most (threads × 2 + 1)
 * batches of rows and results, plus one batch of results in its output buffer. A batch's rows leave once — a retried batch's rows
 * only from the run that finished. A batch that runs past its `timeout` (batch-timer.ts) is
 * aborted, which terminates its worker, and counts as a batch whose worker died. Every worker has exited before the stage calls back its
 * end or its destroy.
 */
import type { TransformCallback } from 'node:stream';
import { originOf } from '../core/origin.js';
import { Stage } from '../core/stage.js';
import { runAttempt, settleFailedRow, workerRowError, type Attempt } from './attempt.js';
import { WorkerError } from './errors.js';
import { FillingBatch } from './filling-batch.js';
import { pack, unpack, type BatchLines } from './packing.js';
import { WorkerPool } from './pool.js';
import type { BatchResult, RowFailure } from './protocol.js';
import type { ParallelSettings } from './options.js';
import { RowSizer } from './row-size.js';
import { runRows, type RowsRun } from './run-rows.js';
import { withTails } from './tails.js';
import { ParallelStats } from './stats.js';
import { loadRowFunction, type RowFunction } from './worker-function.js';

/**
 * How long a batch should keep its worker busy. A slow function's batches are cut to about
 * this many milliseconds of its measured work a row (they would otherwise run longer:
 * 450 parking rows of a 35 µs function take 16 ms): every row in flight
 * lives on the main thread from when it joins a batch until its result leaves — with the
 * default `batchBytes`, ~2,300 rows that survive the young generation's collections, are
 * copied by each and promoted, and a worker's batch is as long-lived in its own heap. Short
 * enough to keep the rows in flight few, long enough that a batch's own cost (the trip, the
 * worker's wake-up: ~0.1–0.2 ms on a loaded machine) stays a few per cent of it.
 */
const BATCH_MS = 10;

/**
 * With `mainThread`, how many batches the main thread may have run beyond the workers' window:
 * done, they wait for the batches before them, so the stage holds at most `threads × 2 +
 * MAIN_AHEAD` batches (plus the one being filled).
 */
const MAIN_AHEAD = 2;

/** The most rows a batch holds for a function of `fnMicros` a row (no limit before it is measured). */
function batchRowsFor(fnMicros: number): number {
  return fnMicros > 0 && fnMicros < Infinity ? Math.max(1, Math.floor((BATCH_MS * 1000) / fnMicros)) : Infinity;
}

interface Batch<In> extends Attempt {
  readonly number: number;
  readonly rows: In[];
  /** Which of its rows are their CSV line (filling-batch.ts), for packing. */
  readonly lines: BatchLines;
  readonly firstIndex: number;
  /** Set once a run finished. */
  outputs?: unknown[];
  failures?: RowFailure[];
  /** Rows of it delivered so far, and failures handled so far. */
  cursor: number;
  failureAt: number;
}

/** The stage `parallel.map` returns: a `Stage` whose `stats` also say where the time went ({@link ParallelStats}). */
export class ParallelMapStage<In, Out> extends Stage<In, Out> {
  override readonly stats = new ParallelStats();
  private readonly filling: FillingBatch<In>;
  private readonly sizer = new RowSizer();
  private readonly queue: Batch<In>[] = [];
  private pool: WorkerPool | null = null;
  private batched = 0;
  private batchCount = 0;
  private heldWrite: TransformCallback | null = null;
  private heldFlush: TransformCallback | null = null;
  private delivering = false;
  /** Microseconds of work a row in the batch whose rows cost least so far (see batchRowsFor). */
  private fastestFn = Infinity;
  /** Batches out to the workers (started, not yet finished). */
  private atWorkers = 0;
  /** With `mainThread`: the function once the main thread has loaded it (null: loading, or it could not). */
  private mainFn: RowFunction | null = null;
  private mainLoading = false;
  /** The signals of the main thread's async batches still running, aborted on destroy. */
  private readonly mainRuns = new Set<AbortController>();

  constructor(
    stage: string,
    private readonly settings: ParallelSettings<In, Out>,
  ) {
    super(stage, settings.highWaterMark);
    this.filling = new FillingBatch<In>(settings.batchBytes, this.sizer.bytes);
  }

  override _transform(row: In, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.droppedPastLimit(callback)) return;
    for (const closed of this.filling.add(row)) this.dispatch(closed.rows, closed.lines);
    if (this.full) this.heldWrite = callback;
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.filling.close();
    if (last && this.pastLimit) this.stats.filtered += last.rows.length;
    else if (last) this.dispatch(last.rows, last.lines);
    this.heldFlush = callback;
    this.drain();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.filling.clear();
    // A batch's timer stops when its task settles: closing the pool rejects every running one.
    this.queue.length = 0;
    for (const controller of this.mainRuns) controller.abort(error ?? new Error('the stage was destroyed'));
    this.heldWrite = null;
    this.heldFlush = null;
    const closing = this.pool ? this.pool.close() : Promise.resolve();
    closing.then(() => callback(error), () => callback(error));
  }

  // As RowOperation: a write held because the output was full is released once the consumer
  // reads, a tick later (see the comment there).
  override _read(size: number): void {
    super._read(size);
    if (this.heldWrite || this.nextDone() !== -1) process.nextTick(this.afterRead);
  }

  private readonly afterRead = (): void => {
    if (this.destroyed) return;
    if (this.nextDone() !== -1) this.drain(); // releases a held write too
    else this.releaseAfterRead();
  };

  private releaseAfterRead(): void {
    if (!this.destroyed && this.heldWrite && !this.full) {
      const callback = this.heldWrite;
      this.heldWrite = null;
      callback();
    }
  }

  private get outputFull(): boolean {
    return this.readableLength >= this.readableHighWaterMark;
  }

  private get full(): boolean {
    const window = this.settings.threads * 2;
    return this.outputFull || (this.mainFn === null ? this.queue.length >= window : this.queue.length >= window + MAIN_AHEAD);
  }

  private dispatch(rows: In[], lines: BatchLines): void {
    const batch: Batch<In> = { number: ++this.batchCount, rows, lines, firstIndex: this.batched + 1, attempts: 0, cursor: 0, failureAt: 0 };
    this.batched += rows.length;
    this.queue.push(batch);
    if (this.mainFn !== null && this.atWorkers >= this.settings.threads * 2) this.runOnMain(batch, this.mainFn);
    else this.start(batch);
  }

  /** Loads the function on the main thread (mainThread): until it is loaded, or if it cannot be, the workers run every batch. */
  private loadOnMain(): void {
    this.mainLoading = true;
    const { module, exportName } = this.settings;
    loadRowFunction({ module, exportName }).then((fn) => {
      if (typeof fn === 'string' || this.destroyed) return;
      this.mainFn = fn;
      // A write held while the workers' window was full may go on now: the next batch runs here.
      this.releaseAfterRead();
    }, () => {});
  }

  /** Runs a batch on the main thread (mainThread: every worker already has two). */
  private runOnMain(batch: Batch<In>, fn: RowFunction): void {
    const controller = new AbortController();
    this.mainRuns.add(controller);
    const task = { firstIndex: batch.firstIndex, stopAtFailure: this.settings.onError === 'fail', tails: false, controller };
    runRows(fn, batch.rows, task).then((run) => {
      this.mainRuns.delete(controller);
      if (this.destroyed) return;
      this.stats.mainBatches++;
      this.done(batch, run);
      batch.outputs = run.outputs;
      this.drain();
    }, (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))));
  }

  /** Counts a finished run of a batch and keeps its results. */
  private done(batch: Batch<In>, run: Pick<RowsRun, 'fnMs' | 'failures'>): void {
    const { stats } = this;
    stats.batches++;
    stats.rowsRun += batch.rows.length;
    stats.fnMs += run.fnMs;
    // The least a row cost in any batch: the work is wall time, and a loaded machine's
    // preemption only ever adds to it (as a cold start does).
    this.fastestFn = Math.min(this.fastestFn, (run.fnMs * 1000) / batch.rows.length);
    this.filling.maxRows = batchRowsFor(this.fastestFn);
    batch.failures = run.failures;
  }

  private start(batch: Batch<In>): void {
    const { onError } = this.settings;
    this.pool ??= WorkerPool.of(this.settings);
    if (this.settings.mainThread && !this.mainLoading) this.loadOnMain();
    this.atWorkers++;
    const sentAt = performance.timeOrigin + performance.now();
    // Every row of a batch was sized before the batch left (the sizer's note covers them all).
    const { packed, transfer } = pack(batch.rows, this.sizer.sawOther, batch.lines);
    const pool = this.pool;
    runAttempt(batch, this.settings, (started, signal) => pool.run({ rows: packed, firstIndex: batch.firstIndex, stopAtFailure: onError === 'fail', ...(started ? { started } : {}) }, transfer, signal), {
      done: (result) => {
        this.atWorkers--;
        this.finished(batch, result, sentAt);
      },
      retry: () => {
        this.atWorkers--;
        if (this.destroyed) return;
        this.stats.retried++;
        this.start(batch);
      },
      fail: (reason, error) => {
        if (!this.destroyed) this.destroy(this.batchError(batch, reason, error));
      },
    });
  }

  private finished(batch: Batch<In>, result: BatchResult, sentAt: number): void {
    if (this.destroyed) return;
    if (result.loadError !== undefined) {
      this.destroy(this.batchError(batch, result.loadError));
      return;
    }
    this.done(batch, result);
    const { stats } = this;
    const receivedAt = performance.timeOrigin + performance.now();
    if (result.previousEndedAt > 0) {
      // The trip out counts from when the worker was free to take it (not while it waited
      // behind the worker's previous batch); a worker's first batch includes its start-up.
      const out = result.startedAt - Math.max(sentAt, result.previousEndedAt);
      const task = result.endedAt - result.startedAt - result.fnMs;
      stats.timedRows += batch.rows.length;
      stats.transferMs += Math.max(0, out) + Math.max(0, task) + Math.max(0, receivedAt - result.endedAt);
    }
    const outputs = unpack(result.outputs);
    const { appended } = result;
    batch.outputs = appended ? withTails(batch.rows, outputs, appended.shape, appended.rows) : outputs;
    this.drain();
  }

  private batchError(batch: Batch<In>, reason: string, cause?: unknown): WorkerError {
    const last = batch.firstIndex + batch.rows.length - 1;
    return new WorkerError(this.stage, batch.number, batch.firstIndex, last, originOf(batch.rows[0]), batch.attempts, reason, cause);
  }

  /** The next batch whose rows may leave: the oldest once done, or (unordered) any done one. */
  private nextDone(): number {
    if (this.settings.ordered) return this.queue.length > 0 && this.queue[0].outputs ? 0 : -1;
    return this.queue.findIndex((batch) => batch.outputs !== undefined);
  }

  private drain(): void {
    if (this.delivering) return;
    this.delivering = true;
    // A done batch waits while the output is full (read resumes it): one batch of results at most is buffered.
    for (let at = this.nextDone(); !this.destroyed && at !== -1 && !this.outputFull; at = this.nextDone()) {
      if (!this.deliver(this.queue[at])) return; // resumed by the reject's callback
      this.queue.splice(at, 1);
    }
    this.delivering = false;
    if (this.destroyed) return;
    if (this.heldWrite && !this.full) this.releaseAfterRead();
    if (this.heldFlush && this.queue.length === 0) {
      const callback = this.heldFlush;
      this.heldFlush = null;
      const closing = this.pool ? this.pool.close() : Promise.resolve();
      closing.then(() => callback(), callback);
    }
  }

  /** Passes a done batch's rows on; false while a reject is being stored (or the stage failed). */
  private deliver(batch: Batch<In>): boolean {
    const outputs = batch.outputs!;
    const failures = batch.failures!;
    while (batch.cursor < batch.rows.length) {
      if (this.pastLimit) {
        // take(n) has its rows: the rest would only be dropped there.
        this.stats.filtered += batch.rows.length - batch.cursor;
        batch.cursor = batch.rows.length;
        break;
      }
      const at = batch.cursor++;
      const row = batch.rows[at];
      const failure = failures[batch.failureAt];
      if (failure?.at !== at) {
        this.pushOut(row, outputs[at] as Out);
        continue;
      }
      batch.failureAt++;
      if (!this.failed(row, batch.firstIndex + at, failure)) return false;
    }
    return true;
  }

  /** Applies `onError` to a row whose function threw; false when the stage failed or waits for a reject to be stored. */
  private failed(row: In, index: number, failure: RowFailure): boolean {
    const error = workerRowError(this.stage, index, originOf(row), failure);
    return settleFailedRow(this, this.settings.onError, { row, index, reason: failure.message, error }, (value) => this.pushOut(row, value), () => {
      this.delivering = false;
      this.drain();
    });
  }
}
