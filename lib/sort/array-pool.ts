/**
 * Typed arrays reused from one run or level to the next (pure): an array dropped instead
 * waits for a major collection to be freed, and meanwhile its memory is held twice (and the
 * allocator's heap, once grown by it, seldom shrinks). A pool keeps one array of a kind.
 */
type Typed = Uint32Array | Int32Array | Float64Array;

/** A zeroed array of `size` from the pool's one of that kind (a view of it when larger), or a new one. */
export function take<A extends Typed>(pool: A[], size: number, make: (n: number) => A): A {
  const at = pool.findIndex((a) => a.length >= size);
  if (at < 0) return make(size);
  const a = pool.splice(at, 1)[0]!.subarray(0, size) as A;
  a.fill(0);
  return a;
}

/** Gives a whole array (not a view's part) back to the pool, which keeps the larger of it and the one it has. */
export function give<A extends Typed>(pool: A[], a: A, whole: (buffer: ArrayBuffer) => A): void {
  if (pool.length > 0 && pool[0]!.byteLength >= a.buffer.byteLength) return;
  pool[0] = whole(a.buffer as ArrayBuffer);
}
