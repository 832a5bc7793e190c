/**
 * A hash level's groups held off the V8 heap (pure), for aggregations whose states are a few
 * numbers (count, sum, avg: their `slots`). Each group is a key identity coded in key-codes
 * slabs, its key values as one spill record for the output (none for a one-string key, which
 * is its identity: it is read back from the codes), and its states as doubles in
 * one `Float64Array`; an open-addressing table of group numbers finds it. So a million
 * groups are a few typed arrays, not a million objects the collector promotes, keeps and then
 * sweeps (a Map of group objects let V8's old generation grow to 3-4 times the groups it held).
 * Invariants: groups keep their first-appearance order; `bytes` is what is allocated.
 */
import { RecordReader, RecordWriter } from '../spill/index.js';
import { give, take } from './array-pool.js';
import { KeyCodes, type KeyCodePool } from './key-codes.js';
import { Positions } from './positions.js';

/** A group: its key values and one state per aggregation. */
export interface Group {
  keys: unknown[];
  states: unknown[];
  /** Bytes its growing states held at the last row (see `Reducer.bytes`). */
  grown: number;
}

/** How an aggregation keeps its state in `width` doubles of a group (built-in reducers only). */
export interface Slots<T> {
  width: number;
  add(s: Float64Array, at: number, row: T): void;
  /** The state as the reducer's own `result` takes it. */
  state(s: Float64Array, at: number): unknown;
}

const FIRST = 64;

/**
 * Memory a stage's levels hand on, one to the next (a level's table is let go before the
 * next level fills): typed arrays dropped instead would wait for a major collection to be
 * freed, and meanwhile a million groups' worth stays in the process twice.
 */
export interface GroupTablePool {
  codes: KeyCodePool;
  blocks: Float64Array[];
  keys: RecordWriter[];
  hashes: Uint32Array[];
  table: Int32Array[];
  states: Float64Array[];
}

export const groupTablePool = (): GroupTablePool => ({ codes: { slabs: [], blocks: [] }, blocks: [], keys: [], hashes: [], table: [], states: [] });

const pooled = (arrays: { byteLength: number }[]): number => arrays.reduce((n, a) => n + a.byteLength, 0);

/**
 * What doubling `a` adds: an array twice its size, and the pool keeping the outgrown one when
 * it is larger than the pool's own (array-pool.ts) — so about one and a half times `a` when the
 * pool holds the half-size one, not `a` alone. Nothing when the pool's array is large enough
 * for `take` to reuse (both were held already).
 */
function doubling(pool: { length: number; byteLength: number }[], a: { length: number; byteLength: number; buffer: ArrayBufferLike }): number {
  const own = pool[0];
  if (own && own.length >= a.length * 2) return 0;
  return a.byteLength + Math.max(0, a.buffer.byteLength - (own?.byteLength ?? 0));
}
/** The longest identity key-codes holds. */
const MAX_CODED = 0xffff;

export class GroupTable<T> {
  count = 0;
  private readonly ids: KeyCodes;
  /** Identities too long to code (over 65,535 UTF-16 units: rare), by group, on the heap. */
  private readonly long = new Map<string, number>();
  private readonly keys: RecordWriter;
  /** Where each group's key record starts (-1: none, the key is its identity); made at the first group with a record. */
  private keyAt: Positions | null = null;
  private hashes: Uint32Array;
  /** Group number + 1 per slot (0: empty); twice the groups at most. */
  private table: Int32Array;
  private states: Float64Array;
  private readonly width: number;
  private readonly offsets: number[];
  /** Bytes of the pool's arrays (held, so counted), measured when they change (`bytes` is read at every new group). */
  private pooledBytes = 0;

  constructor(private readonly slots: readonly Slots<T>[], private readonly pool: GroupTablePool = groupTablePool()) {
    this.offsets = [];
    let width = 0;
    for (const s of slots) {
      this.offsets.push(width);
      width += s.width;
    }
    this.width = width;
    this.ids = new KeyCodes([1], pool.codes);
    this.keys = pool.keys.pop() ?? new RecordWriter(1 << 12);
    this.keys.clear();
    this.hashes = take(pool.hashes, FIRST, (n) => new Uint32Array(n));
    this.table = take(pool.table, FIRST * 2, (n) => new Int32Array(n));
    this.states = take(pool.states, FIRST * width, (n) => new Float64Array(n));
    this.measurePool();
  }

  get bytes(): number {
    return this.ids.bytes + this.keys.capacity + (this.keyAt?.bytes ?? 0) + this.hashes.byteLength + this.table.byteLength + this.states.byteLength + this.pooledBytes;
  }

  /** Updates `pooledBytes`: while this table fills, only its own growth changes the pool's arrays (levels fill one at a time). */
  private measurePool(): void {
    const { hashes, table, states } = this.pool;
    this.pooledBytes = pooled(hashes) + pooled(table) + pooled(states);
  }

  /** Bytes the next group would add to `bytes` when it doubles the arrays (0 while they have room). */
  get growth(): number {
    if (this.count < this.hashes.length) return 0;
    return doubling(this.pool.hashes, this.hashes) + doubling(this.pool.table, this.table) + doubling(this.pool.states, this.states);
  }

  /** The group of key identity `id` (of hash `h`), or -1. */
  find(id: string, h: number): number {
    if (id.length > MAX_CODED) return this.long.get(id) ?? -1;
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const g = this.table[slot]! - 1;
      if (g < 0) return -1;
      if (this.hashes[g] === h >>> 0 && this.ids.equals(g, id)) return g;
    }
  }

  /**
   * A new group (`id` not in the table); returns its number. A key that is one string equal to
   * its identity (a one-column key, see hash-partitions.ts) is read back from the identity's
   * codes: no record of it is written (its position is -1, once a group with a record has made them).
   */
  insert(id: string, h: number, keys: unknown[]): number {
    const g = this.count;
    if (g === this.hashes.length) this.grow();
    if (id.length > MAX_CODED) {
      this.ids.add(['']);
      this.long.set(id, g);
    } else {
      this.ids.add([id]);
    }
    if (keys.length === 1 && keys[0] === id && id.length <= MAX_CODED) {
      this.keyAt?.set(g, -1);
    } else {
      if (!this.keyAt) {
        this.keyAt = new Positions(this.pool.blocks);
        for (let before = 0; before < g; before++) this.keyAt.set(before, -1);
      }
      this.keyAt.set(g, this.keys.length);
      this.keys.add(keys);
    }
    this.hashes[g] = h >>> 0;
    this.place(g);
    this.count++;
    return g;
  }

  add(g: number, row: T): void {
    const base = g * this.width;
    for (let i = 0; i < this.slots.length; i++) this.slots[i]!.add(this.states, base + this.offsets[i]!, row);
  }

  /** The groups, in first-appearance order, as the stage turns them into rows. */
  *groups(): Generator<Group> {
    const reader = new RecordReader('a group key held in memory');
    const records = this.keys.view();
    for (let g = 0; g < this.count; g++) {
      const base = g * this.width;
      const at = this.keyAt ? this.keyAt.get(g) : -1;
      const keys = at < 0 ? [this.ids.value(g, 0)] : (reader.record(records, at) as unknown[]);
      const states: unknown[] = [];
      for (let i = 0; i < this.slots.length; i++) states.push(this.slots[i]!.state(this.states, base + this.offsets[i]!));
      yield { keys, states, grown: 0 };
    }
    this.release();
  }

  /** Hands the table's memory to the pool (nothing reads this table after). */
  private release(): void {
    this.ids.release();
    this.keyAt?.release();
    this.pool.keys.push(this.keys);
    give(this.pool.hashes, this.hashes, (b) => new Uint32Array(b));
    give(this.pool.table, this.table, (b) => new Int32Array(b));
    give(this.pool.states, this.states, (b) => new Float64Array(b));
  }

  private place(g: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashes[g]! & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = g + 1;
  }

  /** Doubles the arrays; the outgrown ones go to the pool (a later level, or a later growth of a smaller one, takes them). */
  private grow(): void {
    const n = this.hashes.length * 2;
    const hashes = take(this.pool.hashes, n, (size) => new Uint32Array(size));
    hashes.set(this.hashes);
    give(this.pool.hashes, this.hashes, (b) => new Uint32Array(b));
    this.hashes = hashes;
    const states = take(this.pool.states, n * this.width, (size) => new Float64Array(size));
    states.set(this.states);
    give(this.pool.states, this.states, (b) => new Float64Array(b));
    this.states = states;
    give(this.pool.table, this.table, (b) => new Int32Array(b));
    this.table = take(this.pool.table, n * 2, (size) => new Int32Array(size));
    for (let g = 0; g < this.count; g++) this.place(g);
    this.measurePool();
  }
}
