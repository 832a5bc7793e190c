import type { TransformCallback } from 'node:stream';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkInteger, checkOptions, named, optionNames } from '../core/validate.js';

/** The option names skip() accepts (an unknown one is a TypeError). */
const SKIP_OPTIONS = optionNames<{ highWaterMark?: number }>('skip()', { highWaterMark: true });

class SkipStage<T> extends Stage<T, T> {
  constructor(private readonly count: number, highWaterMark?: number) {
    super(`skip(${count})`, highWaterMark);
  }
  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (++this.stats.in <= this.count) this.stats.filtered++;
    else this.pushOut(row, row);
    callback();
  }
}

/**
 * Drops the first `count` rows (counted as `filtered`) and passes the rest.
 * @example skip(1) // drop a second header line
 */
export function skip<T>(count: number, options: { highWaterMark?: number } = {}): Stage<T, T> {
  const highWaterMark = named('skip()', () => {
    checkInteger('count', count, 0);
    return checkHighWaterMark('highWaterMark', checkOptions('options', options, SKIP_OPTIONS).highWaterMark);
  });
  return new SkipStage<T>(count, highWaterMark);
}
