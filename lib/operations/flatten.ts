import type { TransformCallback } from 'node:stream';
import { RowError } from '../core/errors.js';
import { inheritOrigin, originOf } from '../core/origin.js';
import { kindOf } from '../core/rows.js';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkOptions, named, optionNames } from '../core/validate.js';

/** The option names flatten() accepts (an unknown one is a TypeError). */
const FLATTEN_OPTIONS = optionNames<{ highWaterMark?: number }>('flatten()', { highWaterMark: true });

class FlattenStage<T> extends Stage<readonly T[], T> {
  override _transform(items: readonly T[], _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    if (!Array.isArray(items)) {
      callback(new RowError(this.stage, index, originOf(items), `expected an array, got ${kindOf(items)}`));
      return;
    }
    for (const item of items) {
      inheritOrigin(items, item);
      this.stats.out++;
      this.push(item);
    }
    callback();
  }
}

/**
 * Unbatches: each input array becomes its items, in order (the inverse of `batch`). The
 * items of one array are pushed together, so the buffer may exceed the high-water mark by
 * one array's length.
 * @example flatten() // T[] → T
 */
export function flatten<T>(options: { highWaterMark?: number } = {}): Stage<readonly T[], T> {
  const highWaterMark = named('flatten()', () => checkHighWaterMark('highWaterMark', checkOptions('options', options, FLATTEN_OPTIONS).highWaterMark));
  return new FlattenStage<T>('flatten()', highWaterMark);
}
