/**
 * Sorts rows by their normalized key prefixes (key-codes.ts), then by a comparator among rows
 * whose prefixes are equal (pure). An LSD radix sort, one byte a pass from the prefix's last,
 * over entries of `ENTRY_WORDS` words — the prefix, then the row number — that move with their
 * keys, so each pass reads and writes in order (a pass that moved row numbers only and looked
 * their prefixes up measured slower than the merge sort it replaced). Stable: rows of equal
 * prefixes stay in row order, and the comparator (which ties by row) sorts only those groups.
 * Invariants: `entries` (each row's prefix written, its last word free) and `scratch` hold
 * `ENTRY_WORDS` words a row, `index` one.
 */
import { sortIndex } from './index-sort.js';
import { PREFIX_WORDS } from './key-codes.js';

/** Words an entry takes: the prefix's, then the row number. */
export const ENTRY_WORDS = PREFIX_WORDS + 1;
const BYTES = PREFIX_WORDS * 4;

/** Writes the rows' order into `index` (and returns it); `entries` and `scratch` are overwritten. */
export function sortByPrefix(entries: Uint32Array, scratch: Uint32Array, index: Uint32Array, tie: (a: number, b: number) => number): Uint32Array {
  const n = index.length;
  const end = n * ENTRY_WORDS;
  // Each byte's counts (they do not depend on the order, so one pass makes them all), and the row numbers.
  const counts = new Uint32Array(BYTES * 256);
  for (let e = 0, r = 0; e < end; e += ENTRY_WORDS, r++) {
    entries[e + PREFIX_WORDS] = r;
    for (let w = 0; w < PREFIX_WORDS; w++) {
      const x = entries[e + w]!;
      const at = w * 1024;
      counts[at + (x >>> 24)]!++;
      counts[at + 256 + ((x >>> 16) & 255)]!++;
      counts[at + 512 + ((x >>> 8) & 255)]!++;
      counts[at + 768 + (x & 255)]!++;
    }
  }
  let from = entries;
  let to = scratch;
  const offsets = new Uint32Array(256);
  for (let d = BYTES - 1; d >= 0 && n > 1; d--) {
    const at = d * 256;
    const word = d >>> 2;
    const shift = (3 - (d & 3)) * 8;
    if (counts[at + ((from[word]! >>> shift) & 255)] === n) continue; // every row has this byte: nothing moves
    offsets[0] = 0;
    for (let b = 1; b < 256; b++) offsets[b] = offsets[b - 1]! + counts[at + b - 1]! * ENTRY_WORDS;
    for (let e = 0; e < end; e += ENTRY_WORDS) {
      const b = (from[e + word]! >>> shift) & 255;
      const o = offsets[b]!;
      offsets[b] = o + ENTRY_WORDS;
      for (let w = 0; w < ENTRY_WORDS; w++) to[o + w] = from[e + w]!;
    }
    [from, to] = [to, from];
  }
  for (let i = 0; i < n; i++) index[i] = from[i * ENTRY_WORDS + PREFIX_WORDS]!;
  sortTies(from, index, tie);
  return index;
}

/** Sorts each group of consecutive rows with equal prefixes by `tie` (they are in row order). */
function sortTies(sorted: Uint32Array, index: Uint32Array, tie: (a: number, b: number) => number): void {
  let start = 0;
  for (let i = 1; i <= index.length; i++) {
    if (i < index.length && samePrefix(sorted, start * ENTRY_WORDS, i * ENTRY_WORDS)) continue;
    if (i - start > 1) sortIndex(index.subarray(start, i), tie);
    start = i;
  }
}

function samePrefix(entries: Uint32Array, a: number, b: number): boolean {
  for (let w = 0; w < PREFIX_WORDS; w++) if (entries[a + w] !== entries[b + w]) return false;
  return true;
}
