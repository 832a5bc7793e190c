/**
 * The `parallel.csv` source: csv.split plans the file's byte ranges (one scan, on the main
 * thread), each range is read, parsed and mapped on a worker (range-task.ts), and the
 * results leave in file order. The main thread never parses a row or copies one to a worker.
 *
 * Invariants: at most `threads × 2` ranges are out to the workers or done and waiting;
 * a done range's results are passed on only while the output buffer is below its
 * high-water mark (batched, one range's results as one chunk), so the stage holds at most
 * `threads × 2` ranges of results plus one in its output buffer; a new range starts only
 * when one has left, so a stalled consumer stops the workers. A range's rows leave once —
 * a retried range's only from the run that finished. Every worker has exited before the
 * stage ends or calls back its destroy.
 */
import { stat } from 'node:fs/promises';
import type { TransformOptions } from 'node:stream';
import { setOrigin, type Origin } from '../core/origin.js';
import { RowBatch } from '../core/row-batch.js';
import { Stage } from '../core/stage.js';
import { CsvError, type CsvSplit } from '../csv/index.js';
import { runAttempt, settleFailedRow, workerRowError, type Attempt } from './attempt.js';
import type { ParallelCsvSettings } from './csv-options.js';
import { WorkerError } from './errors.js';
import { unpack } from './packing.js';
import { WorkerPool } from './pool.js';
import type { RangeFailure, RangeResult } from './protocol.js';
import { ParallelStats } from './stats.js';

interface Range extends Attempt {
  readonly split: CsvSplit;
  /** Set once a run finished. */
  result?: RangeResult;
  outputs?: unknown[];
  /** Rows of it passed on (or failed) so far, and failures handled so far. */
  cursor: number;
  failureAt: number;
}

/** The stage `parallel.csv` returns: a source whose `stats` also say where the time went. */
export class ParallelCsvStage<Out> extends Stage<never, Out> {
  override readonly stats = new ParallelStats();
  /** The file's header names, once the first range is done (null: no header). */
  headers: readonly string[] | null | undefined;
  private splits: CsvSplit[] | null = null;
  private planning = false;
  private next = 0;
  private readonly queue: Range[] = [];
  private pool: WorkerPool | null = null;
  /** Rows of the ranges already passed on: a row's number in the stage is this plus its place in its range. */
  private rowsBefore = 0;
  private batched = false;
  private delivering = false;
  private ending = false;

  constructor(
    stage: string,
    private readonly settings: ParallelCsvSettings<Out>,
  ) {
    // A source: the writable side is born finished.
    super(stage, settings.highWaterMark, { writable: false } as TransformOptions);
  }

  /** Ranges out to the workers or done and waiting to leave: at most `threads × 2`. */
  get rangesInFlight(): number {
    return this.queue.length;
  }

  /** Internal (lib/pipeline/batch-rows.ts): each range's results leave as one RowBatch. */
  batchRows(): boolean {
    this.batched = true;
    (this as unknown as { _readableState: { highWaterMark: number } })._readableState.highWaterMark = 1;
    return true;
  }

  override _read(): void {
    if (!this.planning) {
      this.planning = true;
      const { file, rangeBytes, splitter } = this.settings;
      // Ranges of about `rangeBytes`: the plan takes a count.
      stat(file).then(({ size }) => splitter.plan(Math.max(1, Math.ceil(size / rangeBytes)))).then(
        (splits) => {
          this.splits = splits;
          this.drain();
        },
        (error: unknown) => this.destroy(error as Error),
      );
    } else if (this.splits) process.nextTick(this.afterRead);
  }

  // A tick later: a read may come while rows are being pushed (from inside push()), when a
  // drain now would return at once and the read be lost.
  private readonly afterRead = (): void => this.drain();

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A range's timer stops when its task settles: closing the pool rejects every running one.
    this.queue.length = 0;
    const closing = this.pool ? this.pool.close() : Promise.resolve();
    closing.then(() => callback(error), () => callback(error));
  }

  private startMore(): void {
    const splits = this.splits!;
    while (!this.destroyed && this.queue.length < this.settings.threads * 2 && this.next < splits.length) {
      const range: Range = { split: splits[this.next++], attempts: 0, cursor: 0, failureAt: 0 };
      this.queue.push(range);
      this.start(range);
    }
  }

  private start(range: Range): void {
    const { onError } = this.settings;
    this.pool ??= WorkerPool.of(this.settings);
    const pool = this.pool;
    runAttempt(range, this.settings, (started, signal) => pool.runRange({ split: range.split, options: this.settings.csv, stopAtFailure: onError === 'fail', ...(started ? { started } : {}) }, signal), {
      done: (result) => this.finished(range, result),
      retry: () => {
        if (this.destroyed) return;
        this.stats.retried++;
        this.start(range);
      },
      fail: (reason, error) => {
        if (!this.destroyed) this.destroy(this.rangeError(range, reason, error));
      },
    });
  }

  private finished(range: Range, result: RangeResult): void {
    if (this.destroyed) return;
    if (result.loadError !== undefined) {
      this.destroy(this.rangeError(range, result.loadError));
      return;
    }
    this.stats.batches++;
    this.stats.rowsRun += result.lines.length;
    this.stats.fnMs += result.fnMs;
    range.outputs = unpack(result.outputs);
    range.result = result;
    this.drain();
  }

  private rangeError(range: Range, reason: string, cause?: unknown): WorkerError {
    const { split } = range;
    const first: Origin = { source: split.file, line: split.line };
    const what = `range ${split.index + 1} of ${split.count} (bytes ${split.start}-${split.end}, from ${split.file} line ${split.line})`;
    return new WorkerError(this.stage, split.index + 1, 0, 0, first, range.attempts, reason, cause, what);
  }

  private drain(): void {
    if (this.delivering || this.destroyed) return;
    this.delivering = true;
    for (let range = this.queue[0]; range?.result && !this.destroyed && this.readableLength < this.readableHighWaterMark; range = this.queue[0]) {
      if (!this.deliver(range) || this.destroyed) return; // resumed by a read, or by a reject's callback
      this.rowsBefore += range.result.lines.length;
      this.queue.shift();
    }
    this.delivering = false;
    if (this.destroyed) return;
    this.startMore();
    if (this.queue.length === 0 && this.next >= this.splits!.length && !this.ending) {
      this.ending = true;
      const closing = this.pool ? this.pool.close() : Promise.resolve();
      closing.then(() => {
        if (!this.destroyed) this.push(null);
      }, (error: unknown) => this.destroy(error as Error));
    }
  }

  /** Passes a done range's rows on; false when paused (output full, a reject being stored) or the stage failed. */
  private deliver(range: Range): boolean {
    const result = range.result!;
    const outputs = range.outputs!;
    this.headers ??= result.headers;
    const { lines, failures } = result;
    while (range.cursor < outputs.length) {
      if (this.readableLength >= this.readableHighWaterMark) {
        this.delivering = false;
        return false;
      }
      const failure = failures[range.failureAt];
      const upTo = failure ? failure.at : outputs.length;
      if (range.cursor < upTo) {
        const from = range.cursor;
        const to = this.batched ? upTo : from + 1;
        for (let at = from; at < to; at++) setOrigin(outputs[at], { source: this.settings.file, line: lines[at] });
        this.stats.in += to - from;
        this.stats.out += to - from;
        if (this.batched) this.push(new RowBatch(outputs.slice(from, to)));
        else this.push(outputs[from]);
        range.cursor = to;
        continue;
      }
      range.failureAt++;
      range.cursor++;
      this.stats.in++;
      if (!this.failed(failure!, this.rowsBefore + failure!.at + 1, lines[failure!.at])) return false;
    }
    if (result.parseError) {
      const { source, line, column, reason } = result.parseError;
      this.destroy(new CsvError(source, line, reason, undefined, column));
      return false;
    }
    return true;
  }

  /** Applies `onError` to a row whose function threw; false when the stage failed or waits for a reject to be stored. */
  private failed(failure: RangeFailure, index: number, line: number): boolean {
    const { row } = failure;
    const origin: Origin = { source: this.settings.file, line };
    setOrigin(row, origin);
    const error = workerRowError(this.stage, index, origin, failure);
    const push = (value: Out) => {
      setOrigin(value, origin);
      this.stats.out++;
      this.push(this.batched ? new RowBatch([value]) : value);
    };
    const settled = settleFailedRow(this as unknown as Stage<unknown, Out>, this.settings.onError, { row, index, reason: failure.message, error }, push, () => {
      this.delivering = false;
      this.drain();
    });
    if (!settled && !this.destroyed) this.delivering = false; // waiting for the reject to be stored
    return settled;
  }
}
