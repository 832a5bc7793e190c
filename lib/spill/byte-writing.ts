/**
 * Writing records into a growing buffer (pure): room, varints and ASCII text unit by unit.
 * The spill format's writer (spill-format.ts) and the join's table of compact records
 * (lib/join/encoded-table.ts) both write with these; a sort run copies its records with `copyBytes`.
 */

/** Units of an all-strings value past which its text is written by one native call (join, then UTF-8) rather than copied unit by unit (measured: a 220-unit CSV row writes ~4× faster natively). */
export const UNIT_COPY_MAX = 128;

/** `buf` when it has room for `n` bytes past `used`, else a buffer twice as large (or more) holding its first `used` bytes. */
export function withRoom<B extends Buffer>(buf: B, used: number, n: number): B {
  if (used + n <= buf.length) return buf;
  let size = buf.length * 2;
  while (size < used + n) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, used);
  return next as B;
}

/** Writes `n` as a varint at `p` (room ensured: at most 5 bytes); returns where it ends. */
export function putVarint(buf: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    buf[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[p++] = n;
  return p;
}

/** Copies `s` to `p` unit by unit when it is all ASCII (room ensured); returns where it ends, or -1 at the first other unit. */
export function copyAscii(buf: Buffer, s: string, p: number): number {
  for (let j = 0; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c >= 0x80) return -1;
    buf[p++] = c;
  }
  return p;
}

/** A view of `buf`'s bytes for `copyBytes`. */
export const viewOf = (buf: Buffer): DataView => new DataView(buf.buffer, buf.byteOffset, buf.length);

/**
 * Copies bytes `start`–`end` of `from` to `at` in `to` (room ensured), four at a time; returns
 * where they end. For many short copies: `Buffer#copy` makes a view of its source per call (a
 * sort run's records, ~280 bytes each: 187 young collections per 2 M copies against none, and
 * 99 against 82 ns a copy), and the collections promote whatever else is alive meanwhile.
 */
export function copyBytes(from: DataView, start: number, end: number, to: DataView, at: number): number {
  let i = start;
  for (; i + 4 <= end; i += 4, at += 4) to.setUint32(at, from.getUint32(i, true), true);
  for (; i < end; i++, at++) to.setUint8(at, from.getUint8(i));
  return at;
}
