/**
 * Sorts an index (a Uint32Array of row numbers) by a comparator, in place, with one scratch
 * array of the same size (pure; the caller may pass one to reuse). V8's own `TypedArray.prototype.sort(compare)` copies the
 * elements into two arrays on the JS heap (16 bytes a row); this needs 4 bytes a row outside
 * it. A bottom-up merge sort over runs first sorted by insertion: stable, O(n log n).
 */
const RUN = 32;

export function sortIndex(index: Uint32Array, compare: (a: number, b: number) => number, scratch: Uint32Array = new Uint32Array(index.length)): Uint32Array {
  const n = index.length;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const x = index[i]!;
      let j = i - 1;
      while (j >= lo && compare(index[j]!, x) > 0) {
        index[j + 1] = index[j]!;
        j--;
      }
      index[j + 1] = x;
    }
  }
  if (n <= RUN) return index;
  let from: Uint32Array = index;
  let to: Uint32Array = scratch;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      // Already in order across the seam: copy the pair as it is.
      if (mid >= hi || compare(from[mid - 1]!, from[mid]!) <= 0) {
        to.set(from.subarray(lo, hi), lo);
        continue;
      }
      while (i < mid && j < hi) to[k++] = compare(from[j]!, from[i]!) < 0 ? from[j++]! : from[i++]!;
      while (i < mid) to[k++] = from[i++]!;
      while (j < hi) to[k++] = from[j++]!;
    }
    [from, to] = [to, from];
  }
  if (from !== index) index.set(from);
  return index;
}
