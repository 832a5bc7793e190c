/**
 * UTF-8 validation for the strict CSV mode. `isUtf8` (native) answers the common case; the
 * byte loop runs only on input it rejects, to find where the bad sequence starts.
 */
import { isUtf8 } from 'node:buffer';

export interface Utf8Check {
  /** Index of the first byte of an invalid sequence, or -1. */
  readonly invalid: number;
  /** Where a sequence cut off by the end of `bytes` starts (`bytes.length` if none). */
  readonly incomplete: number;
}

/** Checks `bytes`; a sequence cut off at the end is reported as `incomplete`, not invalid. */
export function checkUtf8(bytes: Uint8Array): Utf8Check {
  if (isUtf8(bytes)) return { invalid: -1, incomplete: bytes.length };
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0; // overlong
      if (b === 0xed) high = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90; // overlong
      if (b === 0xf4) high = 0x8f; // above U+10FFFF
    } else return { invalid: i, incomplete: n };
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { invalid: -1, incomplete: i };
      const c = bytes[i + k];
      const lo = k === 1 ? low : 0x80;
      const hi = k === 1 ? high : 0xbf;
      if (c < lo || c > hi) return { invalid: i, incomplete: n };
    }
    i += need + 1;
  }
  return { invalid: -1, incomplete: n };
}
