import type { TransformCallback } from 'node:stream';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkInteger, checkOptions } from '../core/validate.js';

export interface TakeOptions {
  /** @default 16 */
  highWaterMark?: number;
}

/**
 * Passes the first `count` rows, then ends its output and emits `'stop'`: under `run()` or
 * `pipe()` that stops the source (its file is closed, its generator's `finally` runs) and
 * the pipeline then completes normally. Rows already in flight behind the limit are
 * dropped and counted as `filtered`: the row operations before `take` no longer call
 * their function on them, and drop the result of an async call that was already running
 * for one (so its failure cannot fail the pipeline). In a bare `stream.pipeline` nothing
 * stops the source, so the rest of the input is read and dropped.
 */
class TakeStage<T> extends Stage<T, T> {
  /** True once the limit is reached. */
  stopped = false;

  constructor(private readonly count: number, highWaterMark?: number) {
    super(`take(${count})`, highWaterMark);
    if (count === 0) this.stop();
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.stopped) {
      this.stats.filtered++;
    } else {
      this.pushOut(row, row);
      if (this.stats.out === this.count) this.stop();
    }
    callback();
  }

  private stop(): void {
    this.stopped = true;
    this.push(null);
    this.emit('stop');
  }
}

/** @example take(1000) // the first 1,000 rows */
export function take<T>(count: number, options: TakeOptions = {}): Stage<T, T> {
  checkInteger('count', count, 0);
  const o = checkOptions('options', options);
  return new TakeStage<T>(count, checkHighWaterMark('highWaterMark', o.highWaterMark));
}
