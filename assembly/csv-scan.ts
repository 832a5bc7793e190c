// The CSV boundary kernel (AssemblyScript; `npm run build` compiles it to
// lib/csv/wasm/csv-scan.wasm, loaded by lib/csv/wasm-scanner.ts). It lives outside lib/ so the
// repository's type check and import rules never see it.
//
// For the bytes JS copies to `input()`, `scan(len, base)` writes Int32 entries to `output()`:
// - `base + i` for each delimiter and each line break (its first byte) outside quotes at i:
//   the end of a field;
// - after a line break, `~(base + j)`: the row ends, the next one starts at j (after LF, CR or
//   CRLF). A CR at the end of the bytes waits for the next call (or `finish`) to see an LF.
// - and, at `rowEnds()`, the index of each row-end entry (`rowCount()` of them), so a reader
//   can jump to a row's wanted fields and get its width by a subtraction.
// Quote state, a pending CR and a pending closing quote carry over to the next call, so a long
// row is never scanned twice. A quote that opens a field anywhere but right after a separator,
// or closes it anywhere but right before one (or another quote: the doubled escape), makes the
// call return ~count: the entries up to the last row end hold, the row after it needs the JS
// scanner; `reset()` resumes at a row start JS found. `finish(base)` ends a last row without
// a line break, and returns ~count for a quote left open.
//
// Speed: each 64-byte block becomes bit masks of its structural bytes (SIMD compares and
// bitmasks); only those bytes are visited. Memory: two static regions, never grown.

const CAP: i32 = 65536;
const NONE: i32 = i32.MIN_VALUE;
const LF: i32 = 10;
const CR: i32 = 13;

// 64 bytes of slack: the last block's loads may read past `len` (masked off).
const IN: usize = memory.data(CAP + 64, 16);
// Each byte writes at most two entries (an LF: field end and row end), plus one left from a CR.
const OUT: usize = memory.data((2 * CAP + 2) * 4, 16);
// The index in OUT of each row-end entry: a row's fields are the entries since the last one.
const ROWS: usize = memory.data((CAP + 2) * 4, 16);

let delim: i32 = 44;
let quote: i32 = 34;
let inQuote = false;
/** Position of the last separator or quote outside quotes (relative to this call; -1 at the
 * start): an opening quote must come right after it. */
let lastPos: i32 = -1;
/** A closing quote whose next byte is not seen yet. */
let pendingClose: i32 = NONE;
let pendingCR = false;
/** Where the current row started, relative to this call (for `finish`). */
let rowStart: i32 = 0;
/** Byte-order mark bytes matched at the start (-1: decided). */
let bomState: i32 = -1;
let bomLength: i32 = 0;
/** Row ends written by the last call. */
let rows: i32 = 0;

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
/** Where the row ends of the last call are listed (Int32 indexes into `output()`), and how many. */
export function rowEnds(): usize {
  return ROWS;
}
export function rowCount(): i32 {
  return rows;
}
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
  pendingClose = NONE;
  pendingCR = false;
  rowStart = 0;
  bomState = -1;
  fieldIndex = 0;
  fieldStart = 0;
  rowQuoted = false;
  dropped = 0;
  clearRecord();
}

/** The bits of four 16-byte compares, as one 64-bit mask (bit i: byte i). */
@inline function masks(a: v128, b: v128, c: v128, d: v128): u64 {
  return <u64>i8x16.bitmask(a) | (<u64>i8x16.bitmask(b) << 16) | (<u64>i8x16.bitmask(c) << 32) | (<u64>i8x16.bitmask(d) << 48);
}

@inline function rowAt(at: i32, index: i32): void {
  store<i32>(ROWS + (<usize>at << 2), index);
}

@inline function entry(at: i32, value: i32): void {
  store<i32>(OUT + (<usize>at << 2), value);
}

/** Matches a byte-order mark at the start; returns where the first row starts once one is matched in this call, else -1. */
function matchBom(len: i32): i32 {
  let j: i32 = 0;
  while (bomState >= 0 && bomState < 3 && j < len) {
    const b = <i32>load<u8>(IN + <usize>j);
    const want = bomState == 0 ? 0xef : bomState == 1 ? 0xbb : 0xbf;
    if (b != want) {
      bomState = -1;
      return -1;
    }
    bomState++;
    j++;
  }
  if (bomState == 3) {
    bomState = -1;
    bomLength = 3;
    lastPos = j - 1;
    rowStart = j;
    return j;
  }
  return -1;
}

export function scan(len: i32, base: i32): i32 {
  let n: i32 = 0;
  let r: i32 = 0;
  let skipLF: i32 = -1;
  if (bomState >= 0) matchBom(len);
  if (pendingCR && len > 0) {
    pendingCR = false;
    if (<i32>load<u8>(IN) == LF) {
      rowAt(r++, n);
      entry(n++, ~(base + 1));
      skipLF = 0;
      rowStart = 1;
    } else {
      rowAt(r++, n);
      entry(n++, ~base);
      rowStart = 0;
    }
  }
  const vd = i8x16.splat(<i8>delim);
  const vq = i8x16.splat(<i8>quote);
  const vl = i8x16.splat(<i8>LF);
  const vc = i8x16.splat(<i8>CR);
  for (let block: i32 = 0; block < len; block += 64) {
    const p = IN + <usize>block;
    const v0 = v128.load(p);
    const v1 = v128.load(p + 16);
    const v2 = v128.load(p + 32);
    const v3 = v128.load(p + 48);
    const tail: u64 = block + 64 > len ? (<u64>1 << <u64>(len - block)) - 1 : u64.MAX_VALUE;
    const lm = masks(i8x16.eq(v0, vl), i8x16.eq(v1, vl), i8x16.eq(v2, vl), i8x16.eq(v3, vl)) & tail;
    const qc = masks(
      v128.or(i8x16.eq(v0, vq), i8x16.eq(v0, vc)), v128.or(i8x16.eq(v1, vq), i8x16.eq(v1, vc)),
      v128.or(i8x16.eq(v2, vq), i8x16.eq(v2, vc)), v128.or(i8x16.eq(v3, vq), i8x16.eq(v3, vc)),
    ) & tail;
    let m = (masks(i8x16.eq(v0, vd), i8x16.eq(v1, vd), i8x16.eq(v2, vd), i8x16.eq(v3, vd)) & tail) | lm;
    if (qc == 0 && !inQuote && pendingClose == NONE && skipLF < block) {
      // The common block: delimiters and LFs only. Each writes its offset and, in the next
      // slot, a row end that the count keeps only after an LF.
      if (m == 0) continue;
      lastPos = block + 63 - <i32>clz(m);
      if (lm != 0) rowStart = block + 64 - <i32>clz(lm);
      const at = base + block;
      while (m != 0) {
        const k = <i32>ctz(m);
        entry(n, at + k);
        entry(n + 1, ~(at + k + 1));
        rowAt(r, n + 1);
        const lf = <i32>((lm >>> <u64>k) & 1);
        r += lf;
        n += 1 + lf;
        m &= m - 1;
      }
      continue;
    }
    m |= qc;
    while (m != 0) {
      const i = block + <i32>ctz(m);
      m &= m - 1;
      if (pendingClose != NONE) {
        if (i != pendingClose + 1) return fail(n, r);
        pendingClose = NONE;
      }
      const c = <i32>load<u8>(IN + <usize>i);
      if (c == quote) {
        if (inQuote) {
          inQuote = false;
          pendingClose = i;
        } else {
          if (lastPos != i - 1) return fail(n, r);
          inQuote = true;
        }
        lastPos = i;
        continue;
      }
      if (inQuote) continue;
      lastPos = i;
      if (c == delim) {
        entry(n++, base + i);
      } else if (c == LF) {
        if (i == skipLF) continue;
        entry(n++, base + i);
        rowAt(r++, n);
        entry(n++, ~(base + i + 1));
        rowStart = i + 1;
      } else {
        entry(n++, base + i);
        if (i + 1 >= len) {
          pendingCR = true;
          rowStart = len;
        } else if (<i32>load<u8>(IN + <usize>i + 1) == LF) {
          rowAt(r++, n);
          entry(n++, ~(base + i + 2));
          skipLF = i + 1;
          rowStart = i + 2;
        } else {
          rowAt(r++, n);
          entry(n++, ~(base + i + 1));
          rowStart = i + 1;
        }
      }
    }
  }
  // A closing quote followed by an ordinary byte (no structural byte came right after it).
  if (pendingClose != NONE && pendingClose + 1 < len) return fail(n, r);
  lastPos -= len;
  rowStart -= len;
  if (pendingClose != NONE) pendingClose -= len;
  rows = r;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The projected scan: `project(count)` after writing the wanted field indexes (ascending, each
// < 255) to `wanted()`; then `scanProjected(len, base)` writes one record of `stride()` Int32s
// per row to `output()`: for the j-th wanted field its start and end (`-1, -1` past the row's
// width), then where the next row starts, then the row's width (its field count). Fields of
// unwanted columns cost a bit count, not an entry. The unfinished row's record is kept here
// between calls; `rebase(shift)` moves its positions when the caller moves its bytes. The
// call stops early at a block boundary when the output is nearly full (`consumed()` tells
// where); it returns the rows written, or ~rows where the plain scan returns ~count.
//
// Drops (`project(count, true)`, then the tests at `conditions()` and `dropWidth(width)`): a
// row of `width` fields with no quote in it whose tested fields are all in this call's bytes
// and one of which is none of its values (bytes compared) writes no record; the records get
// two more Int32s before `next`: the rows dropped since the record before (in this call), and
// where the last of them ended. `droppedTail()` and `droppedEnd()` tell the same of the rows
// dropped after the call's last record. A dropped row is always one line (it has no quote).
// Tests, as bytes: their count, then per test its field's ordinal among the wanted, its
// values' count, and per value its length and bytes (at most CONDITION_BYTES in all).

const MAX_WANTED: i32 = 16;
/** For each field index, its ordinal among the wanted (255: not wanted). */
const ORD: usize = memory.data(256, 16);
/** For each field index, the smallest wanted index at or after it (255: none). */
const NEXT: usize = memory.data(256, 16);
/** The unfinished row's record. */
const CUR: usize = memory.data((2 * MAX_WANTED + 2) * 4, 16);
const OUT_INTS: i32 = 2 * CAP + 2;
let stride_: i32 = 2;
let wantedCount: i32 = 0;
/** The field index the next separator ends, and where that field starts (absolute). */
let fieldIndex: i32 = 0;
let fieldStart: i32 = 0;
let consumed_: i32 = 0;

const CONDITION_BYTES: i32 = 1024;
const TESTS: usize = memory.data(CONDITION_BYTES, 16);
/** Whether records carry the drop counts, and the width of the rows tested (0: none yet). */
let drops = false;
let dropWidth_: i32 = 0;
/** Whether a quote was seen in the current row. */
let rowQuoted = false;
/** Rows dropped since the last record of this call, and where the last of them ended (absolute). */
let dropped: i32 = 0;
let droppedEnd_: i32 = 0;
/** Where this call's bytes start (absolute): a tested field before it is not decided. */
let callBase: i32 = 0;

export function conditions(): usize {
  return TESTS;
}
export function conditionBytes(): i32 {
  return CONDITION_BYTES;
}
/** Rows of `width` fields are tested from now on (0 stops it). */
export function dropWidth(width: i32): void {
  dropWidth_ = width;
}
export function droppedTail(): i32 {
  return dropped;
}
export function droppedEnd(): i32 {
  return droppedEnd_;
}

export function wanted(): usize {
  return ORD;
}
export function stride(): i32 {
  return stride_;
}
export function consumed(): i32 {
  return consumed_;
}

/** Reads the `count` ascending wanted indexes the caller wrote at `wanted()`, and builds the tables. */
export function project(count: i32, withDrops: bool): bool {
  if (count > MAX_WANTED) return false;
  // (NEXT holds the list meanwhile: no allocation, so the memory never grows.)
  for (let j = 0; j < count; j++) store<u8>(NEXT + <usize>j, load<u8>(ORD + <usize>j));
  for (let i = 0; i < 256; i++) store<u8>(ORD + <usize>i, 255);
  for (let j = 0; j < count; j++) store<u8>(ORD + <usize>load<u8>(NEXT + <usize>j), <u8>j);
  let next: i32 = 255;
  for (let i = 255; i >= 0; i--) {
    if (load<u8>(ORD + <usize>i) != 255) next = i;
    store<u8>(NEXT + <usize>i, <u8>next);
  }
  wantedCount = count;
  drops = withDrops;
  dropWidth_ = 0;
  stride_ = 2 * count + (withDrops ? 4 : 2);
  clearRecord();
  fieldIndex = 0;
  fieldStart = 0;
  return true;
}

/** Moves the unfinished row's positions `shift` bytes down (the caller moved its bytes). */
export function rebase(shift: i32): void {
  fieldStart -= shift;
  for (let j = 0; j < 2 * wantedCount; j++) {
    const at = CUR + (<usize>j << 2);
    const v = load<i32>(at);
    if (v >= 0) store<i32>(at, v - shift);
  }
}

@inline function clearRecord(): void {
  for (let j = 0; j < 2 * wantedCount; j++) store<i32>(CUR + (<usize>j << 2), -1);
}

/** The field `fieldIndex` ends at `end` (absolute). */
@inline function fieldEnd(end: i32): void {
  const ord = fieldIndex < 255 ? <i32>load<u8>(ORD + <usize>fieldIndex) : 255;
  if (ord != 255) {
    store<i32>(CUR + (<usize>ord << 3), fieldStart);
    store<i32>(CUR + (<usize>ord << 3) + 4, end);
  }
}

/** The row ends (its last field ended already); the next starts at `next` (absolute). Returns r + 1, or r for a row dropped. */
@inline function rowEnd(r: i32, next: i32): i32 {
  const quoted = rowQuoted;
  rowQuoted = false;
  if (dropWidth_ > 0 && !quoted && fieldIndex + 1 == dropWidth_ && failsTests()) {
    dropped++;
    droppedEnd_ = next;
    clearRecord();
    fieldIndex = 0;
    fieldStart = next;
    return r;
  }
  const rec = OUT + (<usize>(r * stride_) << 2);
  let w2 = 2 * wantedCount;
  for (let j = 0; j < w2; j++) store<i32>(rec + (<usize>j << 2), load<i32>(CUR + (<usize>j << 2)));
  if (drops) {
    store<i32>(rec + (<usize>w2 << 2), dropped);
    store<i32>(rec + (<usize>(w2 + 1) << 2), droppedEnd_);
    dropped = 0;
    w2 += 2;
  }
  store<i32>(rec + (<usize>w2 << 2), next);
  store<i32>(rec + (<usize>(w2 + 1) << 2), fieldIndex + 1);
  clearRecord();
  fieldIndex = 0;
  fieldStart = next;
  return r + 1;
}

/** Whether a tested field of the current row (no quote in it) is none of its values; a field not all in this call's bytes passes. */
function failsTests(): bool {
  let p = TESTS;
  const tests = <i32>load<u8>(p++);
  for (let t = 0; t < tests; t++) {
    const at = CUR + (<usize>load<u8>(p) << 3);
    const values = <i32>load<u8>(p + 1);
    p += 2;
    const start = load<i32>(at);
    const length = load<i32>(at + 4) - start;
    let matched = start < callBase;
    for (let v = 0; v < values; v++) {
      const n = <i32>load<u8>(p);
      if (!matched && n == length) matched = memory.compare(IN + <usize>(start - callBase), p + 1, <usize>n) == 0;
      p += 1 + <usize>n;
    }
    if (!matched) return true;
  }
  return false;
}

export function scanProjected(len: i32, base: i32): i32 {
  let r: i32 = 0;
  let skipLF: i32 = -1;
  callBase = base;
  dropped = 0;
  const maxRows = OUT_INTS / stride_ - 66;
  if (bomState >= 0) {
    const first = matchBom(len);
    if (first >= 0) fieldStart = base + first;
  }
  if (pendingCR && len > 0) {
    pendingCR = false;
    if (<i32>load<u8>(IN) == LF) {
      r = rowEnd(r, base + 1);
      skipLF = 0;
      rowStart = 1;
    } else {
      r = rowEnd(r, base);
      rowStart = 0;
    }
  }
  const vd = i8x16.splat(<i8>delim);
  const vq = i8x16.splat(<i8>quote);
  const vl = i8x16.splat(<i8>LF);
  const vc = i8x16.splat(<i8>CR);
  let end = len;
  for (let block: i32 = 0; block < len; block += 64) {
    if (r > maxRows && skipLF < block) {
      end = block;
      break;
    }
    const p = IN + <usize>block;
    const v0 = v128.load(p);
    const v1 = v128.load(p + 16);
    const v2 = v128.load(p + 32);
    const v3 = v128.load(p + 48);
    const tail: u64 = block + 64 > len ? (<u64>1 << <u64>(len - block)) - 1 : u64.MAX_VALUE;
    const lm = masks(i8x16.eq(v0, vl), i8x16.eq(v1, vl), i8x16.eq(v2, vl), i8x16.eq(v3, vl)) & tail;
    const qc = masks(
      v128.or(i8x16.eq(v0, vq), i8x16.eq(v0, vc)), v128.or(i8x16.eq(v1, vq), i8x16.eq(v1, vc)),
      v128.or(i8x16.eq(v2, vq), i8x16.eq(v2, vc)), v128.or(i8x16.eq(v3, vq), i8x16.eq(v3, vc)),
    ) & tail;
    let m = (masks(i8x16.eq(v0, vd), i8x16.eq(v1, vd), i8x16.eq(v2, vd), i8x16.eq(v3, vd)) & tail) | lm;
    if (qc == 0 && !inQuote && pendingClose == NONE && skipLF < block) {
      if (m == 0) continue;
      lastPos = block + 63 - <i32>clz(m);
      const at = base + block;
      let breaks = lm;
      while (m != 0) {
        // The separators up to the next line break (all of them when none): fields
        // `fieldIndex` on. Only the wanted ones are visited; the rest are counted.
        let part = m;
        const ended = breaks != 0;
        if (ended) {
          const lf = breaks & (~breaks + 1);
          part = m & ((lf << 1) - 1);
          breaks &= breaks - 1;
        }
        m &= ~part;
        let count = <i32>popcnt(part);
        for (;;) {
          const w = fieldIndex < 255 ? <i32>load<u8>(NEXT + <usize>fieldIndex) : 255;
          const skip = w - fieldIndex;
          if (w == 255 || skip >= count) break;
          for (let t = 1; t < skip; t++) part &= part - 1;
          if (skip > 0) {
            fieldStart = at + <i32>ctz(part) + 1;
            part &= part - 1;
          }
          const end = at + <i32>ctz(part);
          const ord = <usize>load<u8>(ORD + <usize>w);
          store<i32>(CUR + (ord << 3), fieldStart);
          store<i32>(CUR + (ord << 3) + 4, end);
          part &= part - 1;
          fieldStart = end + 1;
          fieldIndex = w + 1;
          count -= skip + 1;
        }
        if (count > 0) {
          fieldStart = at + 64 - <i32>clz(part);
          fieldIndex += count;
        }
        if (ended) {
          // (The line break's field is counted: fieldIndex is the width, fieldStart the next row.)
          fieldIndex--;
          r = rowEnd(r, fieldStart);
          rowStart = fieldStart - base;
        }
      }
      continue;
    }
    m |= qc;
    while (m != 0) {
      const i = block + <i32>ctz(m);
      m &= m - 1;
      if (pendingClose != NONE) {
        if (i != pendingClose + 1) return failProjected(r);
        pendingClose = NONE;
      }
      const c = <i32>load<u8>(IN + <usize>i);
      if (c == quote) {
        if (inQuote) {
          inQuote = false;
          pendingClose = i;
        } else {
          if (lastPos != i - 1) return failProjected(r);
          inQuote = true;
          rowQuoted = true;
        }
        lastPos = i;
        continue;
      }
      if (inQuote) continue;
      lastPos = i;
      if (c == delim) {
        fieldEnd(base + i);
        fieldIndex++;
        fieldStart = base + i + 1;
      } else if (c == LF) {
        if (i == skipLF) continue;
        fieldEnd(base + i);
        r = rowEnd(r, base + i + 1);
        rowStart = i + 1;
      } else {
        fieldEnd(base + i);
        if (i + 1 >= len) {
          pendingCR = true;
          rowStart = len;
        } else if (<i32>load<u8>(IN + <usize>i + 1) == LF) {
          r = rowEnd(r, base + i + 2);
          skipLF = i + 1;
          rowStart = i + 2;
        } else {
          r = rowEnd(r, base + i + 1);
          rowStart = i + 1;
        }
      }
    }
  }
  if (pendingClose != NONE && pendingClose + 1 < end) return failProjected(r);
  lastPos -= end;
  rowStart -= end;
  if (pendingClose != NONE) pendingClose -= end;
  consumed_ = end;
  rows = r;
  return r;
}

function failProjected(r: i32): i32 {
  rows = r;
  return ~r;
}

/** As `finish`, for the projected scan: returns the rows written (0 or 1), or ~0 for a quote left open. */
export function finishProjected(base: i32): i32 {
  let r: i32 = 0;
  dropped = 0;
  if (inQuote) return failProjected(0);
  if (pendingCR) {
    pendingCR = false;
    r = rowEnd(r, base);
  } else if (rowStart < 0) {
    fieldEnd(base);
    r = rowEnd(r, base);
  }
  rowStart = 0;
  rows = r;
  return r;
}

/** The result of a call that stops at a quote it does not read: `~n` (n entries written). */
function fail(n: i32, r: i32): i32 {
  rows = r;
  return ~n;
}

/** The end of the input, `base` its position: ends a last row without a line break. */
export function finish(base: i32): i32 {
  let n: i32 = 0;
  let r: i32 = 0;
  if (inQuote) return fail(0, 0);
  if (pendingCR) {
    pendingCR = false;
    rowAt(r++, n);
    entry(n++, ~base);
  } else if (rowStart < 0) {
    entry(n++, base);
    rowAt(r++, n);
    entry(n++, ~base);
  }
  rowStart = 0;
  rows = r;
  return n;
}
