import type { TransformCallback } from 'node:stream';
import { inheritOrigin } from '../internal/origin.js';
import { Stage } from '../internal/stage.js';
import { checkHighWaterMark, checkInteger, checkOptions } from '../internal/validate.js';

export interface BatchOptions {
  /**
   * High-water mark in batches; memory is bounded by (highWaterMark + 1) × size rows.
   * @default 1
   */
  highWaterMark?: number;
}

/** Invariant: holds at most `size - 1` rows between writes; never emits an empty batch. */
class BatchStage<T> extends Stage<T, T[]> {
  private current: T[] = [];

  constructor(private readonly size: number, highWaterMark: number) {
    super(`batch(${size})`, undefined, { readableHighWaterMark: highWaterMark });
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.current.length === 0) inheritOrigin(row, this.current);
    this.current.push(row);
    if (this.current.length === this.size) this.emitBatch();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.current.length > 0) this.emitBatch();
    callback();
  }

  private emitBatch(): void {
    const full = this.current;
    this.current = [];
    this.stats.out++;
    this.push(full);
  }
}

/**
 * Groups rows into arrays of `size`; the last, partial batch is emitted at the end.
 * @example batch(500) // T → T[] (500 rows each)
 */
export function batch<T>(size: number, options: BatchOptions = {}): Stage<T, T[]> {
  checkInteger('size', size, 1);
  const o = checkOptions('options', options);
  return new BatchStage<T>(size, checkHighWaterMark('highWaterMark', o.highWaterMark) ?? 1);
}
