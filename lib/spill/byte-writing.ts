/**
 * Writing records into a growing buffer (pure): room, varints and ASCII text unit by unit.
 * The spill format's writer (spill-format.ts) and the join's table of compact records
 * (lib/join/encoded-table.ts) both write with these.
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
