import type { TransformCallback } from 'node:stream';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkInteger, checkOptions, named, optionNames } from '../core/validate.js';
import { Heap } from '../spill/index.js';
import { checkAbortSignal, destroyOnAbort } from './abort-stage.js';
import { rowComparator, type Compare, type SortBy } from './keys.js';

export interface TopNOptions {
  /** Compares two key values. @default compareValues */
  compare?: Compare;
  /** Aborts the stage: it fails with `AbortError`. */
  signal?: AbortSignal;
  /** @default 16 */
  highWaterMark?: number;
}

/** The option names topN() accepts (an unknown one is a TypeError). */
const TOP_N_OPTIONS = optionNames<TopNOptions>('topN()', { compare: true, signal: true, highWaterMark: true });

/**
 * Invariant: holds at most `n` rows — a heap whose top is the worst row kept, replaced when
 * a better row arrives; ties keep the earlier row (as a stable sort would).
 */
class TopNStage<T> extends Stage<T, T> {
  private seq = 0;
  private readonly heap: Heap<{ row: T; seq: number }>;

  private readonly unlisten: () => void;

  constructor(private readonly n: number, private readonly cmp: (a: T, b: T) => number, signal: AbortSignal | undefined, highWaterMark: number | undefined) {
    super(`topN(${n})`, highWaterMark);
    this.unlisten = destroyOnAbort(this, signal);
    // "less" for the heap = worse: sorts later, or ties and came later.
    this.heap = new Heap((a, b) => this.worse(a, b));
  }

  private worse(a: { row: T; seq: number }, b: { row: T; seq: number }): boolean {
    const c = this.cmp(a.row, b.row);
    return c > 0 || (c === 0 && a.seq > b.seq);
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    const item = { row, seq: this.seq++ };
    try {
      if (this.heap.size < this.n) this.heap.push(item);
      else if (this.n > 0 && this.worse(this.heap.peek()!, item)) this.heap.replaceTop(item);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const items = this.heap.toArray().sort((a, b) => this.cmp(a.row, b.row) || a.seq - b.seq);
    this.stats.filtered = this.stats.in - items.length;
    for (const { row } of items) this.pushOut(row, row);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.unlisten();
    callback(error);
  }
}

/**
 * The first `n` rows in `by` order (as `sort(by)` then `take(n)` would give), holding only n
 * rows. `by` as in `sort()`.
 * @example topN(10, { key: 'tickets', order: 'desc' })
 */
export function topN<T = unknown>(n: number, by: SortBy<T>, options: TopNOptions = {}): Stage<T, T> {
  return named('topN()', () => {
    checkInteger('n', n, 0);
    const o = checkOptions('options', options, TOP_N_OPTIONS);
    return new TopNStage<T>(n, rowComparator(by, o.compare as Compare | undefined), checkAbortSignal(o.signal), checkHighWaterMark('highWaterMark', o.highWaterMark));
  });
}
