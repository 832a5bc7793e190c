/**
 * A run's string sort keys held off the V8 heap (pure): each row's keys as UTF-16 code units
 * in slabs of a `Uint16Array`, `[length, units…]` per key, so a run of CSV rows keeps no key
 * string alive on the heap (strings that survive young collections are what grows V8's heap
 * and young generation; these bytes are counted exactly). Comparing the units one by one, a
 * shorter key first on a common prefix, is the order of JavaScript's `<` on strings, hence
 * of `compareValues` on two strings. Invariants: a row's codes never straddle two slabs;
 * `bytes` is what is allocated (slabs and positions), not an estimate.
 *
 * For sorting, `prefixes()` packs each row's keys into `PREFIX_WORDS` unsigned words that
 * compare as the keys do whenever they differ (a normalized key, as DuckDB's): one byte a
 * unit, u + 1 for units under 254 (0 ends a key, so a shorter key is first on a common
 * prefix), 255 for any other unit, after which nothing more is written; a descending key's
 * bytes are 255 minus these. Rows whose prefixes are equal may still differ (past the prefix,
 * or in units past a 255): those are compared unit by unit (`compare`).
 */
import { Positions } from './positions.js';

/** Code units per slab at most (2 MB); the first slabs are smaller (a tiny budget holds kilobytes). */
const SLAB_BITS = 20;
const SLAB = 1 << SLAB_BITS;
const MASK = SLAB - 1;
const FIRST_SLAB = 1024;
/** Units of a key `value` makes a string of by a loop (V8 makes strings under 13 units flat as they are joined). */
const SHORT = 12;
/** A key longer than this is not coded (its length must fit in one unit). */
const MAX_LENGTH = 0xffff;
/** Words (of 4 key bytes) in a row's sort prefix: a CSV row's short key and a 10-digit number fit. */
export const PREFIX_WORDS = 4;
const PREFIX_BYTES = PREFIX_WORDS * 4;
/** The byte of units from this one up (it ends a prefix: the units differ past what one byte says). */
const CLAMP = 254;

/** Memory reused from one run to the next. */
export interface KeyCodePool {
  slabs: Uint16Array[];
  blocks: Float64Array[];
}

export class KeyCodes {
  private readonly slabs: Uint16Array[] = [];
  /** Units used in the last slab. */
  private used = 0;
  /** Where each row's codes start (slab × 2²⁰ + offset). */
  private readonly at: Positions;
  count = 0;
  private slabBytes = 0;

  constructor(private readonly signs: readonly (1 | -1)[], private readonly pool: KeyCodePool = { slabs: [], blocks: [] }) {
    this.at = new Positions(pool.blocks);
  }

  /** Bytes allocated: slabs and positions. */
  get bytes(): number {
    return this.slabBytes + this.at.bytes;
  }

  /** Adds a row's key values; false (nothing added) when one is not a string or is too long to code. */
  add(values: readonly unknown[]): boolean {
    let units = values.length;
    for (const v of values) {
      if (typeof v !== 'string' || v.length > MAX_LENGTH) return false;
      units += v.length;
    }
    if (units > SLAB) return false;
    const last = this.slabs[this.slabs.length - 1];
    if (!last || this.used + units > last.length) {
      // A pooled slab is taken at once (it is memory held already), else they grow from small.
      const slab = this.pool.slabs.pop() ?? new Uint16Array(Math.max(units, Math.min(SLAB, last ? last.length * 2 : FIRST_SLAB)));
      this.slabs.push(slab);
      this.used = 0;
      this.slabBytes += slab.byteLength;
    }
    const slab = this.slabs[this.slabs.length - 1]!;
    this.at.set(this.count, (this.slabs.length - 1) * SLAB + this.used);
    let p = this.used;
    for (const v of values as string[]) {
      slab[p++] = v.length;
      for (let j = 0; j < v.length; j++) slab[p++] = v.charCodeAt(j);
    }
    this.used = p;
    this.count++;
    return true;
  }

  /** Compares rows `a` and `b` by their keys in turn; ties by index (stable). */
  compare(a: number, b: number): number {
    const pa = this.at.get(a);
    const pb = this.at.get(b);
    const x = this.slabs[pa >>> SLAB_BITS]!;
    const y = this.slabs[pb >>> SLAB_BITS]!;
    let i = pa & MASK;
    let j = pb & MASK;
    for (let k = 0; k < this.signs.length; k++) {
      const la = x[i++]!;
      const lb = y[j++]!;
      const n = la < lb ? la : lb;
      for (let u = 0; u < n; u++) {
        const c = x[i + u]! - y[j + u]!;
        if (c !== 0) return c < 0 ? -this.signs[k]! : this.signs[k]!;
      }
      if (la !== lb) return la < lb ? -this.signs[k]! : this.signs[k]!;
      i += la;
      j += lb;
    }
    return a - b;
  }

  /** Writes every row's sort prefix (see the top) into `out`: `PREFIX_WORDS` words every `stride`, in row order. */
  prefixes(out: Uint32Array, stride: number): Uint32Array {
    const bytes = new Uint8Array(PREFIX_BYTES);
    for (let i = 0; i < this.count; i++) {
      this.prefixBytes(i, bytes);
      for (let w = 0, b = 0; w < PREFIX_WORDS; w++, b += 4) {
        out[i * stride + w] = ((bytes[b]! << 24) | (bytes[b + 1]! << 16) | (bytes[b + 2]! << 8) | bytes[b + 3]!) >>> 0;
      }
    }
    return out;
  }

  /** Row `i`'s prefix as bytes (zeros after its last). */
  private prefixBytes(i: number, bytes: Uint8Array): void {
    bytes.fill(0);
    const p = this.at.get(i);
    const slab = this.slabs[p >>> SLAB_BITS]!;
    let at = p & MASK;
    let n = 0;
    for (let k = 0; k < this.signs.length && n < PREFIX_BYTES; k++) {
      const flip = this.signs[k] === 1 ? 0 : 255;
      const length = slab[at++]!;
      for (let u = 0; u < length; u++) {
        const c = slab[at + u]!;
        bytes[n++] = (c < CLAMP ? c + 1 : 255) ^ flip;
        if (c >= CLAMP || n === PREFIX_BYTES) return;
      }
      bytes[n++] = flip;
      at += length;
    }
  }

  /** Whether row `i`'s one key is `s` (for codes of one key each, as a hash table's). */
  equals(i: number, s: string): boolean {
    const p = this.at.get(i);
    const slab = this.slabs[p >>> SLAB_BITS]!;
    let at = p & MASK;
    if (slab[at++] !== s.length) return false;
    for (let j = 0; j < s.length; j++) if (slab[at + j] !== s.charCodeAt(j)) return false;
    return true;
  }

  /** Row `i`'s key `k`, as a string again. */
  value(i: number, k: number): string {
    const p = this.at.get(i);
    const slab = this.slabs[p >>> SLAB_BITS]!;
    let at = p & MASK;
    for (let key = 0; key < k; key++) at += slab[at]! + 1;
    const length = slab[at]!;
    if (length > SHORT) return Buffer.from(slab.buffer, slab.byteOffset + (at + 1) * 2, length * 2).toString('utf16le');
    // A short key (a CSV field) by a loop: ~3× faster than a Buffer made and decoded a key
    // (measured at 1 M 7-unit keys), and V8 copies a string this short flat, not as a cons chain.
    let out = '';
    for (let u = at + 1; u <= at + length; u++) out += String.fromCharCode(slab[u]!);
    return out;
  }

  /** Gives the slabs and positions back to the pool (nothing reads this run's codes after). */
  release(): void {
    for (const slab of this.slabs) if (slab.length === SLAB) this.pool.slabs.push(slab);
    this.at.release();
    this.slabs.length = 0;
    this.slabBytes = 0;
  }
}
