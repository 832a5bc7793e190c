import type { TransformCallback } from 'node:stream';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { keyIdentity as identity } from '../spill/index.js';
import { checkAbortSignal, destroyOnAbort } from './abort-stage.js';
import type { Column, KeyFunction } from './keys.js';

export interface DistinctOptions {
  /** Aborts the stage: it fails with `AbortError`. */
  signal?: AbortSignal;
  /** @default 16 */
  highWaterMark?: number;
}

/** The option names distinct() accepts (an unknown one is a TypeError). */
const DISTINCT_OPTIONS = optionNames<DistinctOptions>('distinct()', { signal: true, highWaterMark: true });

/** Invariant: holds one identity string per distinct key seen (not the rows). */
class DistinctStage<T> extends Stage<T, T> {
  private readonly seen = new Set<string>();
  private readonly unlisten: () => void;

  constructor(private readonly keyOf: (row: T) => unknown[], signal: AbortSignal | undefined, highWaterMark: number | undefined) {
    super('distinct()', highWaterMark);
    this.unlisten = destroyOnAbort(this, signal);
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    const id = identity(this.keyOf(row));
    if (this.seen.has(id)) this.stats.filtered++;
    else {
      this.seen.add(id);
      this.pushOut(row, row);
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.seen.clear();
    this.unlisten();
    callback(error);
  }
}

/**
 * Passes the first row of each distinct key (the whole row when no key is given), in input
 * order. Memory: one key per distinct value (it does not spill).
 * @example distinct(['Plate ID', 'Registration State'])
 */
export function distinct<T = unknown>(key?: Column | readonly Column[] | KeyFunction<T>, options: DistinctOptions = {}): Stage<T, T> {
  return named('distinct()', () => {
    const o = checkOptions('options', options, DISTINCT_OPTIONS);
    let keyOf: (row: T) => unknown[];
    if (key === undefined) keyOf = (row) => [row];
    else if (typeof key === 'function') keyOf = (row) => [key(row)];
    else {
      const columns = Array.isArray(key) ? key : [key];
      for (const c of columns) if (!((typeof c === 'number' && Number.isInteger(c) && c >= 0) || typeof c === 'string')) fail('key', 'a column index from 0 and up, a column name, a list of them or a function', key);
      keyOf = (row) => columns.map((c) => (row as Record<string | number, unknown>)[c]);
    }
    return new DistinctStage<T>(keyOf, checkAbortSignal(o.signal), checkHighWaterMark('highWaterMark', o.highWaterMark));
  });
}
