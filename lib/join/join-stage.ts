/**
 * What every join stage shares: the join type, per-side row accounting, the output (through
 * a Combiner), the other input (a SideReader), the `AbortSignal`, waiting for room while one
 * input row gives many output rows (Transform itself holds the write callback while the
 * output is full), and releasing everything on every way out.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { AbortError, RowError, reasonOf } from '../core/errors.js';
import { originOf } from '../core/origin.js';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkOneOf, checkOptions, checkSignal, optionNames, type OptionNames } from '../core/validate.js';
import { checkOutput, Combiner, type OutputOptions } from './combine.js';
import { leftIndexes, readingText, resolveOn, type JoinOn, type ResolvedOn } from './keys.js';
import { TextRow } from '../core/text-row.js';
import type { TextRowReader } from '../core/fusion.js';
import { SideReader } from './side-reader.js';
import type { SourceLike } from '../pipeline/index.js';

/** Which rows without a match are kept: `left` keeps the upstream side's, `right` the other's, `full` both. */
export type JoinType = 'inner' | 'left' | 'right' | 'full';

/** Rows of one side. */
export interface SideCounts {
  /** Rows read from this side. */
  rows: number;
  /** Rows that matched at least one row of the other side. */
  matched: number;
  /** Rows without a match (kept in the output for an outer join of this side, dropped otherwise). */
  unmatched: number;
  /** Of the unmatched rows, those whose key was null or undefined (they never match). */
  nullKeys: number;
}

/** What a join stage did, readable while it runs and after. */
export interface JoinMetrics {
  /** The upstream side (the rows written into the stage). */
  left: SideCounts;
  /** The side given as the stage's argument. */
  right: SideCounts;
  /** Rows passed on. */
  output: number;
}

/** Options every join takes. */
export interface JoinOptions<L, R, Out> extends OutputOptions<L, R, Out> {
  /** The key: a column, a list of columns or a function for both sides, or `{ left, right }`. */
  on: JoinOn<L, R>;
  /** @default 'inner' */
  type?: JoinType;
  /** Aborts the join (both inputs are released). */
  signal?: AbortSignal;
  /** @default 16 */
  highWaterMark?: number;
}

/** A join stage: also says what happened on each side. */
export interface JoinStage<L, Out> extends Stage<L, Out> {
  readonly metrics: Readonly<JoinMetrics>;
}

/** The option names every join takes; each join adds its own (`moreOptionNames`). */
export const JOIN_OPTIONS = optionNames<JoinOptions<unknown, unknown, unknown>>('join', { on: true, type: true, signal: true, highWaterMark: true, merge: true, prefix: true });

const counts = (): SideCounts => ({ rows: 0, matched: 0, unmatched: 0, nullKeys: 0 });

export interface Common<L, R, Out> {
  on: ResolvedOn<L, R>;
  type: JoinType;
  signal: AbortSignal | undefined;
  highWaterMark: number | undefined;
  options: JoinOptions<L, R, Out>;
}

/** Checks the options every join takes (before any stream exists); `known`: the join's names. */
export function commonOptions<L, R, Out>(options: unknown, known: OptionNames): Common<L, R, Out> {
  const o = checkOptions('options', options, known);
  checkOutput(o);
  const signal = checkSignal('signal', o.signal);
  if (signal?.aborted) throw new AbortError(signal.reason);
  return {
    on: resolveOn<L, R>(o.on),
    type: o.type === undefined ? 'inner' : checkOneOf('type', o.type, ['inner', 'left', 'right', 'full'] as const),
    signal,
    highWaterMark: checkHighWaterMark('highWaterMark', o.highWaterMark),
    options: o as unknown as JoinOptions<L, R, Out>,
  };
}

export abstract class JoinBase<L, R, Out> extends Stage<L, Out> implements JoinStage<L, Out>, TextRowReader {
  readonly metrics: JoinMetrics = { left: counts(), right: counts(), output: 0 };
  protected readonly keys: ResolvedOn<L, R>;
  protected readonly keepLeft: boolean;
  protected readonly keepRight: boolean;
  private readonly combiner: Combiner<L, R, Out>;
  private readonly signal: AbortSignal | undefined;
  private roomWaiter: (() => void) | null = null;
  /** The other input, opened on first use. */
  private reader: SideReader | null = null;
  /** The left key's columns when the rows written into it may be TextRows (see `textRowReads`), else null. */
  private readonly textReads: readonly number[] | null;

  /** @param takesText - whether the subclass takes TextRows on its left side (its left keys through `keys`, its output through `output`) */
  constructor(name: string, private readonly otherSource: SourceLike | null, c: Common<L, R, Out>, takesText = false) {
    super(name, c.highWaterMark);
    this.textReads = takesText && c.options.merge === undefined ? leftIndexes(c.options.on) : null;
    this.keys = this.textReads === null ? c.on : readingText(c.on);
    this.keepLeft = c.type === 'left' || c.type === 'full';
    this.keepRight = c.type === 'right' || c.type === 'full';
    this.combiner = new Combiner(name, c.on.shared, c.options);
    this.signal = c.signal;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.destroy(new AbortError(this.signal?.reason));
  };

  /** The other input (opened on first call). */
  protected get other(): SideReader {
    if (!this.otherSource) throw new Error(`${this.stage} has no other input`);
    this.reader ??= this.openOther(this.otherSource);
    return this.reader;
  }

  /** Opens the other input (a subclass may put a stage before it). */
  protected openOther(source: SourceLike): SideReader {
    return new SideReader(source);
  }

  /** Releases the other input early (its rows are no longer needed); a stream never read is destroyed too (a file it opened is closed). */
  protected async closeOther(): Promise<void> {
    if (this.reader) return this.reader.close();
    const source = this.otherSource as Readable | null;
    if (source instanceof Readable && !source.closed) {
      const closed = once(source, 'close').catch(() => undefined);
      source.destroy();
      await closed;
    }
  }

  /** Lets the default output learn a side's columns before its first pair (so unmatched rows get them as null). */
  protected saw(side: 0 | 1, row: unknown): void {
    this.combiner.saw(side, row);
  }

  /**
   * Internal (lib/core/fusion.ts): the left key's columns, when the join takes TextRows on its
   * left side and the output is the default array one (`[...left, ...right]`: a TextRow with
   * the right row's fields appended); else null.
   */
  textRowReads(): readonly number[] | null {
    return this.textReads;
  }

  /** Passes on the output row of a pair (one side may be null). */
  protected output(from: unknown, left: L | null, right: R | null): void {
    const out = left instanceof TextRow ? this.combiner.appendTo(left, right) : this.combiner.combine(left, right);
    this.metrics.output++;
    this.pushOut(from, out);
  }

  /** A right row that matched nothing: counted, and passed on (with a null left) for right and full joins; then waits for room. */
  protected async unmatchedRight(row: R): Promise<void> {
    this.unmatchedRightNow(row);
    const room = this.room();
    if (room) await room;
  }

  /** The same without waiting: the caller checks `room()`. */
  protected unmatchedRightNow(row: R): void {
    this.metrics.right.unmatched++;
    if (this.keepRight) this.output(row, null, row);
  }

  /** Null while the output has room; otherwise a promise resolved once the consumer has read. */
  protected room(): Promise<void> | null {
    if (this.readableLength < this.readableHighWaterMark) return null;
    return new Promise((resolve) => (this.roomWaiter = resolve));
  }

  override _read(size: number): void {
    super._read(size);
    // Readable asks for data (before it takes the chunk it reads out of the buffer): room.
    const waiter = this.roomWaiter;
    if (waiter) {
      this.roomWaiter = null;
      waiter();
    }
  }

  /** A RowError naming the side and the row. */
  protected rowError(side: 'left' | 'right', row: number, value: unknown, reason: unknown): RowError {
    if (reason instanceof RowError) return reason;
    return new RowError(this.stage, row, originOf(value), `${side} row ${row}: ${reasonOf(reason)}`, reason);
  }

  /** What the subclass must release (spill folders); the other input is closed here. */
  protected release(): Promise<void> {
    return Promise.resolve();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.roomWaiter = null;
    this.signal?.removeEventListener('abort', this.onAbort);
    Promise.allSettled([this.closeOther(), this.release()]).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      callback(error ?? (failed?.reason as Error | undefined) ?? null);
    }, callback);
  }
}
