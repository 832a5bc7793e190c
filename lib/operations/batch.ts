import type { TransformCallback } from 'node:stream';
import { Batcher, type ClosedBatch, type FlushCounts } from '../core/batcher.js';
import { RowError, reasonOf } from '../core/errors.js';
import { inheritOrigin, originOf } from '../core/origin.js';
import { Stage } from '../core/stage.js';
import { checkFunction, checkHighWaterMark, checkInteger, checkOptions, named, optionNames } from '../core/validate.js';

export type { FlushCounts, FlushReason } from '../core/batcher.js';

export interface BatchOptions<T = unknown> {
  /**
   * High-water mark in batches; memory is bounded by (highWaterMark + 1) × size rows.
   * @default 1
   */
  highWaterMark?: number;
  /**
   * A batch is closed before it would pass this many bytes (as measured by `sizeOf`). A
   * single row larger than this travels alone.
   * @default Infinity
   */
  maxBytes?: number;
  /**
   * The longest the first row of a partial batch waits: then the batch is emitted even if
   * the source is idle (a slow source must not hold rows forever). While the consumer is
   * not reading, the batch goes out at its next read.
   * @default Infinity
   */
  maxWaitMs?: number;
  /**
   * The size of a row in bytes, for `maxBytes`.
   * @default its UTF-8 length as JSON, plus one
   */
  sizeOf?: (row: T) => number;
}

/** The option names batch() accepts (an unknown one is a TypeError). */
const BATCH_OPTIONS = optionNames<BatchOptions>('batch()', { highWaterMark: true, maxBytes: true, maxWaitMs: true, sizeOf: true });

/** `batch()`'s stage: also counts why each batch was emitted. */
export interface BatchStage<T> extends Stage<T, T[]> {
  /** Batches emitted for each reason: `size`, `bytes`, `time`, `end` (live counts). */
  readonly flushes: Readonly<FlushCounts>;
}

/**
 * Invariants: holds at most `size - 1` rows between writes and never emits an empty
 * batch; the timer runs only while a partial batch is open, and a timed batch is pushed
 * only while the output is below its high-water mark (otherwise at the next read), so the
 * bound above holds with `maxWaitMs` too.
 */
class BatchStageImpl<T> extends Stage<T, T[]> implements BatchStage<T> {
  private readonly batcher: Batcher<T>;
  /** The open batch's time is up, but the output was full: emit it at the next read. */
  private due = false;

  constructor(name: string, limits: { size: number; maxBytes?: number; maxWaitMs?: number; sizeOf?: (row: T) => number }, highWaterMark: number) {
    super(name, undefined, { readableHighWaterMark: highWaterMark });
    this.batcher = new Batcher(limits, this.onTime);
  }

  get flushes(): Readonly<FlushCounts> {
    return this.batcher.flushes;
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    if (this.droppedPastLimit(callback)) return; // no sizeOf call past a take(n)'s limit
    if (this.due) this.emitTimed();
    let closed: ClosedBatch<T>[];
    try {
      closed = this.batcher.add(row);
    } catch (error) {
      callback(new RowError(this.stage, index, originOf(row), reasonOf(error), error));
      return;
    }
    for (const batch of closed) this.emitBatch(batch);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.batcher.close(this.due ? 'time' : 'end');
    this.due = false;
    if (last) this.emitBatch(last);
    callback();
  }

  override _read(size: number): void {
    if (this.due) this.emitTimed();
    super._read(size);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.batcher.clear();
    callback(error);
  }

  private readonly onTime = (): void => {
    if (this.destroyed) return;
    if (this.readableLength < this.readableHighWaterMark) this.emitTimed();
    else this.due = true;
  };

  private emitTimed(): void {
    this.due = false;
    const closed = this.batcher.close('time');
    if (closed) this.emitBatch(closed);
  }

  private emitBatch({ rows }: ClosedBatch<T>): void {
    if (this.pastLimit) {
      this.stats.filtered += rows.length;
      return;
    }
    inheritOrigin(rows[0], rows);
    this.stats.out++;
    this.push(rows);
  }
}

/**
 * Groups rows into arrays of `size`, or fewer when `maxBytes` or `maxWaitMs` comes first;
 * the last, partial batch is emitted at the end; never an empty batch. Each batch has the
 * origin (source line) of its first row.
 * @example
 * batch(500)                                        // T → T[] (500 rows each)
 * batch(500, { maxBytes: 1_000_000, maxWaitMs: 2_000 }) // ≤ 1 MB as JSON, ≤ 2 s wait
 */
export function batch<T>(size: number, options: BatchOptions<T> = {}): BatchStage<T> {
  return named('batch()', () => {
    checkInteger('size', size, 1);
    const o = checkOptions('options', options, BATCH_OPTIONS) as BatchOptions<T>;
    const limits = {
      size,
      maxBytes: o.maxBytes === undefined ? undefined : checkInteger('maxBytes', o.maxBytes, 1, true),
      maxWaitMs: o.maxWaitMs === undefined ? undefined : checkInteger('maxWaitMs', o.maxWaitMs, 1, true),
      sizeOf: o.sizeOf === undefined ? undefined : checkFunction<(row: T) => number>('sizeOf', o.sizeOf),
    };
    return new BatchStageImpl<T>(`batch(${size})`, limits, checkHighWaterMark('highWaterMark', o.highWaterMark) ?? 1);
  });
}
