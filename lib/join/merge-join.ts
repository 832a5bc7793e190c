import type { Readable, TransformCallback, Writable } from 'node:stream';
import { RowError } from '../core/errors.js';
import { originOf } from '../core/origin.js';
import { checkFunction, checkOptions, invalid, moreOptionNames, named, optionNames } from '../core/validate.js';
import { isSourceLike, pipe, type SourceLike } from '../pipeline/index.js';
import { sort, type SortCompare } from '../sort/index.js';
import { estimateBytes, parseBytes } from '../spill/index.js';
import { commonOptions, JOIN_OPTIONS, JoinBase, type JoinOptions, type JoinStage } from './join-stage.js';
import { describeKey, keyComparator, type KeyOf } from './keys.js';
import { END, PENDING, SideReader } from './side-reader.js';
import type { Joined } from './combine.js';

export interface MergeJoinOptions<L, R, Out> extends JoinOptions<L, R, Out> {
  /**
   * The most bytes (estimated) of one key's rows of the right side held at once (the group
   * joined with each left row of that key); more fails the stage naming the key.
   * @default '64MB'
   */
  maxGroupBytes?: number | string;
  /** Compares two key values. @default compareValues (typed: `5` and `'5'` differ; null never matches) */
  compare?: SortCompare;
  /**
   * Sort both inputs by the key first (through `sort`, spilling past `memory`), instead of
   * failing on the first row out of order. The output is then in key order.
   * @default false: the inputs must already be sorted by the key
   */
  sortInputs?: { memory?: number | string; tmpDir?: string };
}

const MERGE_JOIN_OPTIONS = moreOptionNames<MergeJoinOptions<unknown, unknown, unknown>, JoinOptions<unknown, unknown, unknown>>('mergeJoin()', JOIN_OPTIONS, { maxGroupBytes: true, compare: true, sortInputs: true });
const SORT_INPUTS_OPTIONS = optionNames<NonNullable<MergeJoinOptions<unknown, unknown, unknown>['sortInputs']>>('sortInputs', { memory: true, tmpDir: true });

interface Head<R> {
  row: R;
  key: unknown[];
  n: number;
}

interface Group<R> {
  key: unknown[];
  rows: R[];
  bytes: number;
  /** False while its rows are still being read (the right side had none buffered past them yet). */
  complete: boolean;
}

/**
 * Invariants: of the right side, only the current key's rows (the group, ≤ `maxGroupBytes`)
 * and one row past them are held; a left row is answered before the next is taken; rows of
 * both sides are checked to be in key order (null keys may stand anywhere: they never match).
 * A left row is joined synchronously while the right side has rows buffered and the output
 * has room (the common case: no promise a row); where it must wait, the work stops at a
 * point kept in the fields (head, group, the pair to emit next) and resumes from there.
 */
class MergeJoinStage<L, R, Out> extends JoinBase<L, R, Out> {
  private readonly cmp: (a: unknown[], b: unknown[]) => number;
  private head: Head<R> | null | undefined = undefined; // undefined: not read yet; null: right ended
  private group: Group<R> | null = null;
  /** The left row being joined, its key, and the index in the group of its next pair (-1: the group is not found yet). */
  private current: { row: L; key: unknown[] } | null = null;
  private nextPair = -1;
  private prevLeftKey: unknown[] | null = null;
  private prevLeftN = 0;
  private prevRightKey: unknown[] | null = null;
  private prevRightN = 0;
  private leftN = 0;
  private rightN = 0;
  /** With sortInputs: the left rows go through this sort, and come back through leftSorted. */
  private readonly leftSort: ReturnType<typeof sort<L>> | null = null;
  private readonly leftSorted: SideReader | null = null;

  private readonly sortBy: (<T>(keyOf: KeyOf<T>) => ReturnType<typeof sort<T>>) | null = null;
  /** With sortInputs: the reader of the right source, feeding the right side's sort. */
  private feeding: SideReader | null = null;

  constructor(name: string, right: SourceLike, options: MergeJoinOptions<L, R, Out>, private readonly maxGroupBytes: number, compare: SortCompare | undefined, sorting: { memory: number | string; tmpDir?: string } | null) {
    const c = commonOptions<L, R, Out>(options, MERGE_JOIN_OPTIONS);
    // (Left rows sorted first go through a sort keyed by `on` itself: they come whole.)
    super(name, right, c, sorting === null);
    this.cmp = keyComparator(compare);
    if (sorting) {
      // Null keys sort last; they never match, wherever they stand.
      const nullsLast = (a: unknown[] | null, b: unknown[] | null) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : this.cmp(a, b));
      this.sortBy = <T>(keyOf: KeyOf<T>) => sort<T>(keyOf, { ...sorting, compare: nullsLast });
      this.leftSort = this.sortBy(c.on.left);
      this.leftSorted = new SideReader(this.leftSort);
      // Its failures while it takes rows (a full disk) fail the join at once.
      this.leftSort.on('error', (error) => this.destroy(error));
    }
  }

  /** With sortInputs, the right side is read through a sort of its own (fed as it takes rows). */
  protected override openOther(source: SourceLike): SideReader {
    if (!this.sortBy) return super.openOther(source);
    const stage = this.sortBy(this.keys.right);
    this.feeding = new SideReader(source);
    void feed(this.feeding, stage);
    return new SideReader(stage);
  }

  override _transform(row: L, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.leftSort) {
      if (this.leftSort.write(row)) callback();
      else void drained(this.leftSort).then(() => callback());
      return;
    }
    let wait: Promise<void> | null;
    try {
      wait = this.joinLeft(row);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (wait) wait.then(() => callback(), callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    this.finish().then(() => callback(), callback);
  }

  private async finish(): Promise<void> {
    if (this.leftSort && this.leftSorted) {
      this.leftSort.end();
      for (let row = await this.leftSorted.next(); row !== END; row = await this.leftSorted.next()) {
        await this.joinLeft(row as L);
      }
    }
    this.group = null;
    if (!this.keepRight) return this.closeOther();
    // The right rows past the last left key: unmatched.
    while (!this.destroyed) {
      const wait = this.head === undefined ? this.pull() : null;
      if (wait) {
        await wait;
        continue;
      }
      const head = this.head;
      if (!head) return;
      this.head = undefined;
      this.unmatchedRightNow(head.row);
      const room = this.room();
      if (room) await room;
    }
  }

  /** Joins one left row with the right rows of its key; null when done without waiting, else a promise of the rest. */
  private joinLeft(row: L): Promise<void> | null {
    const n = ++this.leftN;
    this.metrics.left.rows++;
    let key: unknown[] | null;
    try {
      key = this.keys.left(row);
    } catch (error) {
      throw this.rowError('left', n, row, error);
    }
    if (key === null) {
      this.metrics.left.nullKeys++;
      this.unmatchedLeft(row);
      return this.room();
    }
    const prev = this.prevLeftKey;
    if (prev && this.compareKeys(key, prev, 'left', n, row) < 0) {
      throw new RowError(this.stage, n, originOf(row), `the left input is not sorted by the key: left row ${n} (key ${describeKey(key)}) sorts before left row ${this.prevLeftN} (key ${describeKey(prev)})`);
    }
    this.prevLeftKey = key;
    this.prevLeftN = n;
    if (this.group && this.cmp(this.group.key, key) !== 0) this.group = null;
    this.current = { row, key };
    this.nextPair = -1;
    return this.goOn();
  }

  /** Goes on with the current left row; null once it is answered, else a promise of the rest. */
  private goOn(): Promise<void> | null {
    const wait = this.work();
    return wait ? wait.then(() => this.goOn() ?? undefined) : null;
  }

  /** Works on the current left row as far as it can without waiting; null once answered, or what to wait for (then call again). */
  private work(): Promise<void> | null {
    const current = this.current;
    if (!current || this.destroyed) return null;
    if (this.nextPair < 0) {
      if (!this.group?.complete) {
        const wait = this.advanceTo(current.key);
        if (wait) return wait;
      }
      if (!this.group) {
        this.current = null;
        this.unmatchedLeft(current.row);
        return this.room();
      }
      this.metrics.left.matched++;
      this.nextPair = 0;
    }
    const rows = this.group!.rows;
    while (this.nextPair < rows.length) {
      if (this.destroyed) return null;
      this.output(current.row, current.row, rows[this.nextPair++]!);
      if (this.nextPair === rows.length) this.current = null;
      const room = this.room();
      if (room) return room;
    }
    this.current = null;
    return null;
  }

  private compareKeys(a: unknown[], b: unknown[], side: 'left' | 'right', n: number, row: unknown): number {
    try {
      return this.cmp(a, b);
    } catch (error) {
      throw this.rowError(side, n, row, error);
    }
  }

  /**
   * Skips (or keeps, for right/full) the right rows before `key`, then reads the group of
   * `key` (left null when there is none); null when done, or what to wait for (then call again).
   */
  private advanceTo(key: unknown[]): Promise<void> | null {
    for (;;) {
      if (this.head === undefined) {
        const wait = this.pull();
        if (wait) return wait;
      }
      const head = this.head!;
      const group = this.group;
      if (group) {
        // Reading the group: its rows are the heads of its key.
        if (head && this.cmp(head.key, key) === 0) {
          group.rows.push(head.row);
          group.bytes += estimateBytes(head.row);
          if (group.bytes > this.maxGroupBytes) {
            throw new RowError(this.stage, head.n, originOf(head.row), `the right rows of key ${describeKey(key)} pass maxGroupBytes (${this.maxGroupBytes} bytes) at right row ${head.n}; raise maxGroupBytes, or use hashJoin with the smaller side as the build side`);
          }
          this.head = undefined;
          continue;
        }
        group.complete = true;
        this.metrics.right.matched += group.rows.length;
        return null;
      }
      if (!head) return null;
      const c = this.cmp(head.key, key);
      if (c > 0) return null;
      if (c === 0) {
        this.group = { key, rows: [], bytes: 0, complete: false };
        continue;
      }
      this.head = undefined;
      this.unmatchedRightNow(head.row);
      const room = this.room();
      if (room) return room;
    }
  }

  /**
   * Reads the next right row with a key into `head` (null at the side's end); rows with a
   * null key are passed as unmatched on the way. Null when done, or what to wait for (the
   * side, or room after a null-key row): then call again.
   */
  private pull(): Promise<void> | null {
    const right = this.other;
    for (;;) {
      const x = right.take();
      if (x === PENDING) return right.wait();
      if (x === END) {
        this.head = null;
        return null;
      }
      const row = x as R;
      if (this.rightN === 0) this.saw(1, row);
      const n = ++this.rightN;
      this.metrics.right.rows++;
      let key: unknown[] | null;
      try {
        key = this.keys.right(row);
      } catch (error) {
        throw this.rowError('right', n, row, error);
      }
      if (key === null) {
        this.metrics.right.nullKeys++;
        this.unmatchedRightNow(row);
        const room = this.room();
        if (room) return room;
        continue;
      }
      const prev = this.prevRightKey;
      if (prev && this.compareKeys(key, prev, 'right', n, row) < 0) {
        throw new RowError(this.stage, n, originOf(row), `the right input is not sorted by the key: right row ${n} (key ${describeKey(key)}) sorts before right row ${this.prevRightN} (key ${describeKey(prev)})`);
      }
      this.prevRightKey = key;
      this.prevRightN = n;
      this.head = { row, key, n };
      return null;
    }
  }

  private unmatchedLeft(row: L): void {
    this.metrics.left.unmatched++;
    if (this.keepLeft) this.output(row, row, null);
    else this.stats.filtered++;
  }

  protected override async release(): Promise<void> {
    await Promise.all([this.leftSorted?.close(), this.feeding?.close()]);
  }
}

/** Resolves on the stage's next 'drain' (or its close), leaving no listener behind. */
function drained(stage: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stage.off('drain', done);
      stage.off('close', done);
      resolve();
    };
    stage.on('drain', done);
    stage.on('close', done);
  });
}

/** Writes the rows of `from` into `stage` (respecting its backpressure), then ends it; a failure destroys it. */
async function feed(from: SideReader, stage: Writable): Promise<void> {
  try {
    for (let row = await from.next(); row !== END && !stage.destroyed; row = await from.next()) {
      if (!stage.write(row)) await drained(stage);
    }
    if (!stage.destroyed) stage.end();
  } catch (error) {
    stage.destroy(error as Error);
  }
}

/**
 * Joins the rows written into it (the left side) with `right`, both sorted by the key, in
 * one pass: the right side's rows of the current key are held (at most `maxGroupBytes`) and
 * joined with each left row of that key. `type` `inner`, `left`, `right` or `full`; null keys
 * never match; a row out of key order fails the stage naming both rows (or, with
 * `sortInputs`, both sides are sorted first). Output in key order.
 *
 * @param right the other side: a Readable (e.g. `csv.read`), an (async) iterable or a generator function.
 * Or `mergeJoin(left, right, options)`: both sides given, a source of the joined rows.
 * @example
 * await run(csv.read('tickets.csv', { rows: 'objects' }),
 *   mergeJoin(csv.read('payments.csv', { rows: 'objects' }), { on: 'summons', type: 'left', prefix: { right: 'payment_' } }),
 *   csv.write('joined.csv'));
 */
export function mergeJoin<L = any, R = any, Out = Joined<L, R>>(right: SourceLike, options: MergeJoinOptions<L, R, Out>): JoinStage<L, Out>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** Both sides as sources: a source of the joined rows (`pipe(left, mergeJoin(right, options))`), to stand first in `run()`. */
export function mergeJoin<L = any, R = any, Out = Joined<L, R>>(left: SourceLike, right: SourceLike, options: MergeJoinOptions<L, R, Out>): Readable & AsyncIterable<Out>; // eslint-disable-line @typescript-eslint/no-explicit-any
export function mergeJoin<L, R, Out>(...args: [SourceLike, MergeJoinOptions<L, R, Out>] | [SourceLike, SourceLike, MergeJoinOptions<L, R, Out>]): JoinStage<L, Out> | (Readable & AsyncIterable<Out>) {
  return named('mergeJoin()', () => {
    if (args.length === 3) {
      const [left, right, options] = args;
      return pipe(left as never, mergeJoinStage<L, R, Out>(right, options)) as unknown as Readable & AsyncIterable<Out>;
    }
    return mergeJoinStage<L, R, Out>(args[0], args[1] as MergeJoinOptions<L, R, Out>);
  });
}

function mergeJoinStage<L, R, Out>(right: SourceLike, options: MergeJoinOptions<L, R, Out>): JoinStage<L, Out> {
  const o = checkOptions('options', options, MERGE_JOIN_OPTIONS);
  const maxGroupBytes = o.maxGroupBytes === undefined ? 64 * 1024 ** 2 : parseBytes('maxGroupBytes', o.maxGroupBytes);
  const compare = o.compare === undefined ? undefined : checkFunction<SortCompare>('compare', o.compare);
  let sorting: { memory: number | string; tmpDir?: string } | null = null;
  if (o.sortInputs !== undefined && o.sortInputs !== false) {
    const s = checkOptions('sortInputs', o.sortInputs, SORT_INPUTS_OPTIONS);
    sorting = { memory: s.memory === undefined ? '64MB' : parseBytes('sortInputs.memory', s.memory), ...(s.tmpDir === undefined ? {} : { tmpDir: s.tmpDir as string }) };
  }
  if (!isSourceLike(right)) throw invalid(`Expected \`right\` to be a source (a Readable, an iterable of rows or a generator), got ${right === null ? 'null' : typeof right}`);
  return new MergeJoinStage<L, R, Out>('mergeJoin()', right, options, maxGroupBytes, compare, sorting);
}
