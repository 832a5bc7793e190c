/**
 * One sort run held off the V8 heap (pure: buffers in, buffers out; no files). Each row is
 * encoded as it arrives into slabs of spill records (the format of lib/spill, so a run is
 * written to disk by copying bytes, never encoding twice), its sort keys are read out once —
 * as UTF-16 codes off the heap (key-codes.ts) when every key is a string in the default
 * order, as they are in CSV rows, else into one array per key — and the run is sorted as an
 * index over them. Invariants: the row objects themselves are not kept (they die young, cheap
 * for the collector); `bytes` counts what is held: the slabs and the writer's buffer as
 * allocated, the positions' blocks, the key codes as allocated (or each heap key's slot and
 * estimated size), and the sort's arrays: 8 bytes a row for the index and its scratch copy,
 * or for coded keys 44 (the index, and two copies of each row's 16-byte prefix and number:
 * prefix-sort.ts), or the pooled arrays' size when larger. Slabs (and blocks of positions, the writer, the sort's arrays) come from,
 * and go back to, a pool the stage keeps across its runs: a spilled run's memory is reused at once instead of waiting for the collector to
 * free it (it would otherwise double the process's external memory).
 */
import { RECORD_HEAD, RecordReader, RecordWriter, copyBytes, estimateBytes, freeSoon, viewOf } from '../spill/index.js';
import { give, take } from './array-pool.js';
import { sortIndex } from './index-sort.js';
import { ENTRY_WORDS, sortByPrefix } from './prefix-sort.js';
import { KeyCodes, type KeyCodePool } from './key-codes.js';
import { Positions } from './positions.js';
import { compareValues, type ResolvedKey } from './keys.js';

/** Records go to a new slab past this size (the last one may be larger: it holds a whole record). */
const SLAB = 1 << 20;
/** A pooled slab's size: a slab plus room for the record that took it past `SLAB`. */
const SLAB_SIZE = SLAB + (1 << 16);
/** Bytes of records per chunk handed to the file writer. */
const CHUNK = 1 << 18;
const SLAB_SHIFT = 2 ** 32;
/** Slabs kept for reuse at most (a 64 MB budget's worth). */
const POOL_MAX = 64;

/** Memory a stage reuses from one run to the next. */
export interface RunPool {
  slabs: Buffer[];
  blocks: Float64Array[];
  /** The sort's arrays (array-pool.ts): the index, a scratch copy (of it or of the entries), the prefix entries. */
  index: Uint32Array[];
  scratch: Uint32Array[];
  entries: Uint32Array[];
  /** The last run's key arrays (their entries past a new run's count are stale, never read). */
  keys?: unknown[][];
  codes?: KeyCodePool;
  /** The last run's record writer (its buffer grown to a slab's size, emptied). */
  writer?: RecordWriter;
}

/** An empty pool (a stage's first). */
export const runPool = (): RunPool => ({ slabs: [], blocks: [], index: [], scratch: [], entries: [] });

/**
 * Lets go of what `pool` holds, in place (the stage's run buffer refers to it too), once the
 * stage makes no more runs. With `free`, when nothing reads or writes that memory any more,
 * its buffers are also handed to fresh objects (lib/spill `freeSoon`), freed at the next young
 * collection: else the budget's worth of them waits for a major one while the merge allocates.
 */
export function emptyPool(pool: RunPool, free = false): void {
  if (free) {
    for (const arrays of [pool.slabs, pool.blocks, pool.index, pool.scratch, pool.entries, pool.codes?.slabs ?? [], pool.codes?.blocks ?? []]) {
      for (const a of arrays) freeSoon(a.buffer);
    }
  }
  Object.assign(pool, runPool(), { keys: undefined, codes: undefined, writer: undefined });
}

/**
 * A new sort array, an eighth larger than asked: the next run, a few rows longer (runs end at a
 * slab's record, not a row count), then still finds it in the pool; an array replaced in the
 * pool waits for a major collection to be freed (measured on the 1 M-row sort: 7 MB more held
 * at each run that outgrew the last).
 */
const uint32s = (n: number): Uint32Array => new Uint32Array(n + (n >>> 3)).subarray(0, n);
const wholeUint32s = (buffer: ArrayBuffer): Uint32Array => new Uint32Array(buffer);

export class RunBuffer<T> {
  /** The records, slab by slab (views of `owned`), and a DataView of each. */
  private readonly slabs: Buffer[] = [];
  private readonly views: DataView[] = [];
  /** The slabs' whole buffers, given back to the pool by `release()`. */
  private readonly owned: Buffer[] = [];
  private readonly writer: RecordWriter;
  /** Where each row's record starts (slab × 2³² + offset). */
  private readonly at: Positions;
  private readonly keys: unknown[][];
  /** The keys as codes off the heap, while every row's keys are strings in the default order (else null). */
  private codes: KeyCodes | null;
  /** One row's key values (reused). */
  private readonly values: unknown[];
  /** Rows held. */
  count = 0;
  /** Bytes of slabs and position blocks held, and the heap keys' estimate. */
  private held = 0;
  /** Bytes of the sort's arrays in the pool (held for this run, used when it is sorted). */
  private readonly pooledSort: number;
  /** The sorted index, once `order()` made it (given back to the pool by `release()`). */
  private index: Uint32Array | null = null;

  constructor(private readonly sortKeys: readonly ResolvedKey<T>[], private readonly pool: RunPool = runPool()) {
    this.pooledSort = [...pool.index, ...pool.scratch, ...pool.entries].reduce((n, a) => n + a.byteLength, 0);
    this.keys = pool.keys ?? sortKeys.map(() => []);
    this.writer = pool.writer ?? new RecordWriter(1 << 10);
    pool.keys = pool.writer = undefined;
    this.values = sortKeys.map(() => undefined);
    this.at = new Positions(pool.blocks);
    pool.codes ??= { slabs: [], blocks: [] };
    this.codes = sortKeys.every((key) => key.cmp === compareValues) ? new KeyCodes(sortKeys.map((key) => key.sign), pool.codes) : null;
  }

  /** Bytes held (see the invariants). */
  get bytes(): number {
    const sorting = Math.max(this.pooledSort, (((this.codes ? 4 + 8 * ENTRY_WORDS : 8) * this.count * 9) >>> 3));
    return this.held + this.at.bytes + this.writer.capacity + (this.codes?.bytes ?? 0) + sorting;
  }

  /** Reads the row's keys (a key function's throw propagates, the row not added) and encodes it. */
  add(row: T): void {
    const keys = this.sortKeys;
    const values = this.values;
    for (let k = 0; k < keys.length; k++) values[k] = keys[k]!.get(row);
    const offset = this.writer.length;
    this.writer.add(row);
    if (this.codes && !this.codes.add(values)) this.uncode();
    if (!this.codes) {
      for (let k = 0; k < keys.length; k++) {
        this.keys[k]![this.count] = values[k];
        this.held += 8 + estimateBytes(values[k]);
      }
    }
    this.at.set(this.count, this.slabs.length * SLAB_SHIFT + offset);
    this.count++;
    if (this.writer.length >= SLAB) this.closeSlab();
  }

  /** A key that cannot be coded: the run's keys so far move to the heap arrays, for the rest of the run. */
  private uncode(): void {
    const codes = this.codes!;
    for (let k = 0; k < this.sortKeys.length; k++) {
      for (let i = 0; i < this.count; i++) {
        const v = codes.value(i, k);
        this.keys[k]![i] = v;
        this.held += 8 + estimateBytes(v);
      }
    }
    codes.release();
    this.codes = null;
  }

  /** Moves the writer's records into a slab (a pooled one when they fit). */
  private closeSlab(): void {
    const records = this.writer.view();
    const slab = (records.length <= SLAB_SIZE && this.pool.slabs.pop()) || Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, records.length));
    records.copy(slab);
    this.owned.push(slab);
    this.held += slab.length;
    this.slabs.push(slab.subarray(0, records.length));
    this.views.push(viewOf(this.slabs[this.slabs.length - 1]!));
    this.writer.clear();
  }

  /** Gives the slabs and positions back to the pool (the run is written; nothing reads it after). */
  release(): void {
    for (const slab of this.owned) if (slab.length === SLAB_SIZE && this.pool.slabs.length < POOL_MAX) this.pool.slabs.push(slab);
    this.at.release();
    // Kept for the next run (growing arrays anew leaves garbage the size of the keys); what
    // they hold is dropped, except numbers, which hold nothing (and keep the array unboxed).
    if (!this.codes) for (const values of this.keys) for (let i = 0; i < this.count; i++) if (typeof values[i] !== 'number') values[i] = undefined;
    this.pool.keys = this.keys;
    this.writer.clear();
    this.pool.writer = this.writer;
    if (this.index) give(this.pool.index, this.index, wholeUint32s);
    this.codes?.release();
    this.owned.length = 0;
    this.slabs.length = 0;
    this.views.length = 0;
  }

  /** The rows' indexes in sorted order; ties in input order (stable). */
  order(): Uint32Array {
    if (this.writer.length > 0) this.closeSlab();
    const { pool, count, codes } = this;
    const index = take(pool.index, count, uint32s);
    if (codes) {
      const entries = codes.prefixes(take(pool.entries, count * ENTRY_WORDS, uint32s), ENTRY_WORDS);
      const scratch = take(pool.scratch, count * ENTRY_WORDS, uint32s);
      sortByPrefix(entries, scratch, index, (a, b) => codes.compare(a, b));
      give(pool.entries, entries, wholeUint32s);
      give(pool.scratch, scratch, wholeUint32s);
    } else {
      const scratch = take(pool.scratch, count, uint32s);
      for (let i = 0; i < count; i++) index[i] = i;
      sortIndex(index, this.indexComparator(), scratch);
      give(pool.scratch, scratch, wholeUint32s);
    }
    this.index = index;
    return index;
  }

  /**
   * Compares two row indexes by their heap keys: keys of strings only under the default order
   * are compared with `<` directly: the same order as `compareValues`, without its type
   * dispatch, which is most of a run's sorting time.
   */
  private indexComparator(): (a: number, b: number) => number {
    const keys = this.sortKeys.map((key, k) => ({ ...key, values: this.keys[k]!, strings: key.cmp === compareValues && this.allStrings(this.keys[k]!) }));
    if (keys.every((key) => key.strings && key.sign === 1)) {
      const columns = keys.map((key) => key.values as string[]);
      if (columns.length === 1) {
        const v = columns[0]!;
        return (a, b) => (v[a]! < v[b]! ? -1 : v[a]! > v[b]! ? 1 : a - b);
      }
      return (a, b) => {
        for (let k = 0; k < columns.length; k++) {
          const x = columns[k]![a]!;
          const y = columns[k]![b]!;
          if (x !== y) return x < y ? -1 : 1;
        }
        return a - b;
      };
    }
    return (a, b) => {
      for (let k = 0; k < keys.length; k++) {
        const { cmp, sign, values } = keys[k]!;
        const c = cmp(values[a], values[b]);
        if (c !== 0) return sign * c;
      }
      return a - b;
    };
  }

  private allStrings(values: unknown[]): boolean {
    for (let i = 0; i < this.count; i++) if (typeof values[i] !== 'string') return false;
    return true;
  }

  /**
   * The records in `order`, copied into chunks of about 256 kB for a run file. One buffer is
   * reused for every chunk: the caller must be done with a chunk (written it) before asking
   * for the next, as `SpillFolder.writeRecords` is. Nothing per record is allocated (rows of
   * the input wait meanwhile: a young collection would promote them).
   */
  *chunks(order: Uint32Array): Generator<Buffer> {
    let out = Buffer.allocUnsafe(CHUNK);
    let to = viewOf(out);
    let used = 0;
    for (let n = 0; n < order.length; n++) {
      const at = this.at.get(order[n]!);
      const s = slabOf(at);
      const from = this.views[s]!;
      const offset = at - s * SLAB_SHIFT;
      const size = RECORD_HEAD + from.getUint32(offset, true);
      if (used + size > out.length) {
        if (used > 0) yield out.subarray(0, used);
        if (size > out.length) to = viewOf((out = Buffer.allocUnsafe(size)));
        used = 0;
      }
      used = copyBytes(from, offset, offset + size, to, used);
    }
    if (used > 0) yield out.subarray(0, used);
  }

  /** The row at index `i`, decoded (the in-memory case: nothing was spilled). */
  row(i: number, reader: RecordReader): unknown {
    const at = this.at.get(i);
    const s = slabOf(at);
    return reader.record(this.slabs[s]!, at - s * SLAB_SHIFT);
  }
}

/** The slab of a record's position (slab × 2³² + offset). */
const slabOf = (at: number): number => Math.floor(at / SLAB_SHIFT);
