// The CSV boundary kernel (AssemblyScript; `npm run build` compiles it to
// lib/csv/wasm/csv-scan.wasm, loaded by lib/csv/wasm-scanner.ts). It lives outside lib/ so the
// repository's type check and import rules never see it.
//
// For the bytes JS copies to `input()`, `scan(len, base)` writes Int32 entries to `output()`:
// - `base + i` for each delimiter and each line break (its first byte) outside quotes at i:
//   the end of a field;
// - after a line break, `~(base + j)`: the row ends, the next one starts at j (after LF, CR or
//   CRLF). A CR at the end of the bytes waits for the next call (or `finish`) to see an LF.
// Quote state, a pending CR and a pending closing quote carry over to the next call, so a long
// row is never scanned twice. A quote that opens a field anywhere but right after a separator,
// or closes it anywhere but right before one (or another quote: the doubled escape), makes the
// call return ~count: the entries up to the last row end hold, the row after it needs the JS
// scanner; `reset()` resumes at a row start JS found. `finish(base)` ends a last row without
// a line break, and returns ~count for a quote left open.
//
// Speed: each 16-byte block becomes one bit mask of its structural bytes (SIMD compare and
// bitmask); only those bytes are visited. Memory: two static regions, never grown.

const CAP: i32 = 65536;
const NONE: i32 = i32.MIN_VALUE;
const LF: i32 = 10;
const CR: i32 = 13;

// 16 bytes of slack: the last block's load may read past `len` (masked off).
const IN: usize = memory.data(CAP + 16, 16);
// Each byte writes at most two entries (an LF: field end and row end), plus one left from a CR.
const OUT: usize = memory.data((2 * CAP + 2) * 4, 16);

let delim: i32 = 44;
let quote: i32 = 34;
let inQuote = false;
/** Position of the last structural byte outside quotes (relative to this call), and whether
 * an opening quote may follow it: a separator, a quote, or the start. */
let lastPos: i32 = -1;
let lastSep = true;
/** A closing quote whose next byte is not seen yet. */
let pendingClose: i32 = NONE;
let pendingCR = false;
/** Where the current row started, relative to this call (for `finish`). */
let rowStart: i32 = 0;
/** Byte-order mark bytes matched at the start (-1: decided). */
let bomState: i32 = -1;
let bomLength: i32 = 0;
let count: i32 = 0;

export function capacity(): i32 {
  return CAP;
}
export function input(): usize {
  return IN;
}
export function output(): usize {
  return OUT;
}
/** 3 when the input started with a UTF-8 byte-order mark (the first row starts after it). */
export function bom(): i32 {
  return bomLength;
}

/** Starts a new input: `d` and `q` the delimiter and quote bytes; `stripBom`: skip a leading mark. */
export function init(d: i32, q: i32, stripBom: bool): void {
  delim = d;
  quote = q;
  reset();
  bomState = stripBom ? 0 : -1;
  bomLength = 0;
}

/** Resumes at a row start (after JS read a row this kernel could not). */
export function reset(): void {
  inQuote = false;
  lastPos = -1;
  lastSep = true;
  pendingClose = NONE;
  pendingCR = false;
  rowStart = 0;
  bomState = -1;
}

@inline function put(value: i32): void {
  store<i32>(OUT + (<usize>count << 2), value);
  count++;
}

function matchBom(len: i32): void {
  let j: i32 = 0;
  while (bomState >= 0 && bomState < 3 && j < len) {
    const b = <i32>load<u8>(IN + <usize>j);
    const want = bomState == 0 ? 0xef : bomState == 1 ? 0xbb : 0xbf;
    if (b != want) {
      bomState = -1;
      return;
    }
    bomState++;
    j++;
  }
  if (bomState == 3) {
    bomState = -1;
    bomLength = 3;
    lastPos = j - 1;
    rowStart = j;
  }
}

export function scan(len: i32, base: i32): i32 {
  count = 0;
  let skipLF: i32 = -1;
  if (bomState >= 0) matchBom(len);
  if (pendingCR && len > 0) {
    pendingCR = false;
    if (<i32>load<u8>(IN) == LF) {
      put(~(base + 1));
      skipLF = 0;
      rowStart = 1;
    } else {
      put(~base);
      rowStart = 0;
    }
  }
  const vd = i8x16.splat(<i8>delim);
  const vq = i8x16.splat(<i8>quote);
  const vl = i8x16.splat(<i8>LF);
  const vc = i8x16.splat(<i8>CR);
  for (let block: i32 = 0; block < len; block += 16) {
    const v = v128.load(IN + <usize>block);
    let m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, vd), i8x16.eq(v, vq)), v128.or(i8x16.eq(v, vl), i8x16.eq(v, vc))));
    if (block + 16 > len) m &= (1 << (len - block)) - 1;
    while (m != 0) {
      const i = block + ctz(m);
      m &= m - 1;
      if (pendingClose != NONE) {
        if (i != pendingClose + 1) return ~count;
        pendingClose = NONE;
      }
      const c = <i32>load<u8>(IN + <usize>i);
      if (c == quote) {
        if (inQuote) {
          inQuote = false;
          pendingClose = i;
        } else {
          if (!lastSep || lastPos != i - 1) return ~count;
          inQuote = true;
        }
        lastPos = i;
        lastSep = true;
        continue;
      }
      if (inQuote) continue;
      lastPos = i;
      lastSep = true;
      if (c == delim) {
        put(base + i);
      } else if (c == LF) {
        if (i == skipLF) continue;
        put(base + i);
        put(~(base + i + 1));
        rowStart = i + 1;
      } else {
        put(base + i);
        if (i + 1 >= len) {
          pendingCR = true;
          rowStart = len;
        } else if (<i32>load<u8>(IN + <usize>i + 1) == LF) {
          put(~(base + i + 2));
          skipLF = i + 1;
          rowStart = i + 2;
        } else {
          put(~(base + i + 1));
          rowStart = i + 1;
        }
      }
    }
  }
  // A closing quote followed by an ordinary byte (no structural byte came right after it).
  if (pendingClose != NONE && pendingClose + 1 < len) return ~count;
  lastPos -= len;
  rowStart -= len;
  if (pendingClose != NONE) pendingClose -= len;
  return count;
}

/** The end of the input, `base` its position: ends a last row without a line break. */
export function finish(base: i32): i32 {
  count = 0;
  if (inQuote) return ~0;
  if (pendingCR) {
    pendingCR = false;
    put(~base);
  } else if (rowStart < 0) {
    put(base);
    put(~base);
  }
  rowStart = 0;
  return count;
}
