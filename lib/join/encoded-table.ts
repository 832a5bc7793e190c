/**
 * The hash join's table of build rows, held encoded (pure: no streams). Each row is a record
 * (see below) in pages of bytes, indexed by typed arrays, so a million build
 * rows are a few hundred buffers rather than a million objects for the garbage collector to
 * trace on every collection, and the bytes held (`bytes`) are counted exactly, not estimated.
 * A row comes back decoded (a fresh copy) each time it matches, as the spill format keeps it
 * (a Map or a class instance as a plain object; a function or a symbol cannot be added).
 *
 * Two kinds of record share the pages. An array of ASCII strings (a CSV row, the common
 * build row) is the table's own compact record: its field count + 1 as a varint, each
 * field's length as a varint, then the text — 10 bytes a row fewer than a spill-format
 * record (no record length, origin flag, tag or text length), which for the bench's 4-column
 * payment rows (33 characters) is what lets a million of them fit 64 MB without a spill.
 * Every other row is a 0 byte, then its spill-format record (RecordWriter's bytes).
 *
 * A row's origin is kept beside its record rather than in it: the page's source (a page
 * holds rows of one source) and the row's line, so a file's name is held once a page, not
 * once a row.
 *
 * Invariants: `slots` (open addressing, linear probing, at most 3/4 full) holds, for each
 * key, its last row + 1 (0: an empty slot); `next` links a key's rows in a ring (the last
 * row's next is the first), so a row joins its key and a key's rows are read in the order
 * added, both in O(1) a row. A slot's key is told apart from another of the same hash by
 * decoding one of its rows (its key identity, `idOf`). A row's `next` also says, in its top
 * bit, whether the row has matched: a probe reads it with the link it follows, where an
 * array of marks beside was one more cache miss a probe (and a byte a row).
 */
import { originOf, setOrigin } from '../core/origin.js';
import { RecordReader, RecordWriter, UNIT_COPY_MAX, copyAscii, freeSoon, putVarint, withRoom } from '../spill/index.js';

/** A page is cut once it reaches this many bytes, so a record starts below 2^16 in its page. */
const PAGE_CUT = 0xf000;
const PAGE_BITS = 16;
/** Pages addressable in 32 bits: past them (4 GB of records) the table is `full`. */
const MAX_PAGES = 2 ** (32 - PAGE_BITS);
/** A page's span of addresses, and the offset bits of an address (constants: `2 ** PAGE_BITS` in a hot path was a `Math.pow` call each time). */
const PAGE_SPAN = 2 ** PAGE_BITS;
const OFFSET_MASK = PAGE_SPAN - 1;
/** First sizes, small: a join of a few rows (or one of 16 partitions' tables) holds little. */
const FIRST_ROWS = 4;
/**
 * A row's four u32s, side by side (a probe reads them together: one cache line, not one an
 * array): its record's address (page << 16 | offset), its key's hash, the next row of its
 * key, and its line (`NO_LINE`: none beside the record).
 */
const AT = 0;
const HASH = 1;
const NEXT = 2;
const LINE = 3;
const STRIDE = 4;
const NO_LINE = 0xffffffff;
/** NEXT's top bit: the row has matched; the bits below: the next row (rows stay below 2^30: `meta` is a typed array of four u32s a row). */
const MATCHED = 0x80000000;
const INDEX = 0x7fffffff;
const FIRST_PAGE = 128;
/** The first byte of a spill-format record in a page (a compact record's first byte is its field count + 1). */
const SPILL_RECORD = 0;

/** The row without its origin (kept beside the record); the row itself when it cannot be copied as it would decode. */
function bare(row: unknown): unknown {
  if (Array.isArray(row)) return row.slice();
  const proto = Object.getPrototypeOf(row) as unknown;
  return proto === Object.prototype || proto === null ? { ...(row as object) } : row;
}

export class EncodedTable {
  private readonly pages: Buffer[] = [];
  private pageBytes = 0;
  /** Each page's source (the origins of its rows), or undefined. */
  private readonly sources: (string | undefined)[] = [undefined];
  /** The page being written: `buf` up to `pos`. */
  private buf = Buffer.allocUnsafe(FIRST_PAGE);
  private pos = 0;
  /** Where a row that is not a compact record is encoded before it is copied into the page (made when first needed). */
  private scratch: RecordWriter | null = null;
  private readonly reader = new RecordReader('the hash join table');
  /** A compact record's read position (decoding). */
  private cursor = 0;
  private rowsHeld = 0;
  private keys = 0;
  /** Per row: its STRIDE u32s. */
  private meta = new Uint32Array(FIRST_ROWS * STRIDE);
  private slots = new Int32Array(FIRST_ROWS * 2);
  private shift = 32 - Math.log2(FIRST_ROWS * 2);
  /** Build rows whose key has matched a probe row. */
  matchedRows = 0;

  /** @param idOf a decoded row's key identity (as the rows were added with) */
  constructor(private readonly idOf: (row: unknown) => string) {}

  /** Bytes held: the pages, the page being written (and the scratch writer) and the index arrays. */
  get bytes(): number {
    return this.pageBytes + this.buf.length + (this.scratch?.capacity ?? 0) + this.slots.byteLength + this.meta.byteLength;
  }

  get rows(): number {
    return this.rowsHeld;
  }

  /** Whether the table can take no more rows (its pages would pass 32-bit addresses). */
  get full(): boolean {
    return this.pages.length >= MAX_PAGES - 1;
  }

  /** Adds a row with key identity `id` and its hash. */
  add(row: unknown, id: string, hash: number): void {
    const r = this.rowsHeld;
    if (r * STRIDE === this.meta.length) this.growRows();
    if ((this.keys + 1) * 4 > this.slots.length * 3) this.growSlots();
    this.encode(r, row);
    const meta = this.meta;
    meta[r * STRIDE + HASH] = hash;
    this.rowsHeld++;
    const mask = this.slots.length - 1;
    for (let s = this.slotOf(hash); ; s = (s + 1) & mask) {
      const last = this.slots[s]! - 1;
      if (last < 0) {
        this.keys++;
        meta[r * STRIDE + NEXT] = r;
      } else if (meta[last * STRIDE + HASH] !== hash || this.idOf(this.decode(last)) !== id) {
        continue;
      } else {
        // r (unmatched) comes after last, before the first; last keeps its mark.
        const link = meta[last * STRIDE + NEXT]!;
        meta[r * STRIDE + NEXT] = link & INDEX;
        meta[last * STRIDE + NEXT] = (link & MATCHED) | r;
      }
      this.slots[s] = r + 1;
      return;
    }
  }

  /** The rows of key `id` (decoded, in the order added), or null; they count as matched from now on. */
  lookup(id: string, hash: number): unknown[] | null {
    const meta = this.meta;
    const mask = this.slots.length - 1;
    for (let s = this.slotOf(hash); ; s = (s + 1) & mask) {
      const last = this.slots[s]! - 1;
      if (last < 0) return null;
      if (meta[last * STRIDE + HASH] !== hash) continue;
      const link = meta[last * STRIDE + NEXT]!;
      const first = link & INDEX;
      const row = this.decode(first);
      if (this.idOf(row) !== id) continue;
      const rows = [row];
      for (let r = meta[first * STRIDE + NEXT]! & INDEX; r !== first; r = meta[r * STRIDE + NEXT]! & INDEX) rows.push(this.decode(r));
      if (link < MATCHED) this.mark(first);
      return rows;
    }
  }

  /** The `r`th row added (from 0) if its key never matched, else undefined. */
  unmatchedAt(r: number): unknown {
    return this.meta[r * STRIDE + NEXT]! < MATCHED ? this.decode(r) : undefined;
  }

  /** Every row, in the order added. */
  *all(): Generator<unknown> {
    for (let r = 0; r < this.rowsHeld; r++) yield this.decode(r);
  }

  /** Marks the key's rows that are not yet (a row added after its key matched is not). */
  private mark(first: number): void {
    const meta = this.meta;
    let r = first;
    do {
      const link = meta[r * STRIDE + NEXT]!;
      if (link < MATCHED) {
        meta[r * STRIDE + NEXT] = link | MATCHED;
        this.matchedRows++;
      }
      r = link & INDEX;
    } while (r !== first);
  }

  /** Fibonacci hashing: the slot from the hash's high bits (partitions take its low bits). */
  private slotOf(hash: number): number {
    return Math.imul(hash, 0x9e3779b1) >>> this.shift;
  }

  private encode(r: number, row: unknown): void {
    const origin = originOf(row);
    let page = this.pages.length;
    if (origin !== undefined && this.sources[page] !== origin.source) {
      if (this.pos > 0) page = this.cut();
      this.sources[page] = origin.source;
    }
    // The line beside the record when it fits a u32; otherwise (and for a row that is not copied) the origin stays in the record.
    const line = origin?.line;
    const beside = line !== undefined && Number.isInteger(line) && line >= 0 && line < NO_LINE;
    const at = this.pos;
    if ((beside || origin === undefined) && this.compact(row)) {
      this.meta[r * STRIDE + LINE] = beside ? line! : NO_LINE;
    } else {
      const plain = beside ? bare(row) : row;
      const scratch = (this.scratch ??= new RecordWriter(FIRST_PAGE));
      scratch.clear(); // (a row that failed to encode may have left a part of itself)
      scratch.add(plain);
      const record = scratch.view();
      this.ensure(1 + record.length);
      this.buf[this.pos++] = SPILL_RECORD;
      this.pos += record.copy(this.buf, this.pos);
      scratch.clear();
      this.meta[r * STRIDE + LINE] = plain === row ? NO_LINE : line!;
    }
    this.meta[r * STRIDE + AT] = page * PAGE_SPAN + at;
    if (this.pos >= PAGE_CUT) this.cut();
  }

  /**
   * Writes `row` as a compact record when it is an array of ASCII strings (the lengths are
   * the text's bytes then); false, nothing written, otherwise.
   */
  private compact(row: unknown): boolean {
    if (!Array.isArray(row)) return false;
    const n = row.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v: unknown = row[i];
      if (typeof v !== 'string') return false;
      total += v.length;
    }
    const start = this.pos;
    // Varints: at most 5 bytes each; the text: at most 3 UTF-8 bytes a unit (the native write is told apart from ASCII by its byte count).
    this.ensure(5 * (n + 1) + (total <= UNIT_COPY_MAX ? total : 3 * total));
    this.varint(n + 1);
    for (let i = 0; i < n; i++) this.varint((row[i] as string).length);
    const buf = this.buf;
    if (total <= UNIT_COPY_MAX) {
      let p = this.pos;
      for (let i = 0; i < n && p >= 0; i++) p = copyAscii(buf, row[i] as string, p);
      this.pos = p < 0 ? start : p;
      return p >= 0;
    }
    if (buf.write((row as string[]).join(''), this.pos, 'utf8') !== total) {
      this.pos = start;
      return false;
    }
    this.pos += total;
    return true;
  }

  /** A varint, in room already ensured. */
  private varint(n: number): void {
    this.pos = putVarint(this.buf, this.pos, n);
  }

  private ensure(n: number): void {
    this.buf = withRoom(this.buf, this.pos, n);
  }

  /** Closes the page being written (a copy of its bytes; the buffer is reused); the next page's number. */
  private cut(): number {
    const page = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.pages.push(page);
    this.pageBytes += page.length;
    this.sources.push(undefined);
    return this.pages.length;
  }

  private decode(r: number): unknown {
    const address = this.meta[r * STRIDE + AT]!;
    const page = address >>> PAGE_BITS;
    const at = address & OFFSET_MASK;
    const bytes = page < this.pages.length ? this.pages[page]! : this.buf;
    const row = bytes[at] === SPILL_RECORD
      ? this.reader.record(page < this.pages.length ? bytes : bytes.subarray(0, this.pos), at + 1)
      : this.fieldsAt(bytes, at);
    const line = this.meta[r * STRIDE + LINE]!;
    if (line !== NO_LINE) setOrigin(row, { source: this.sources[page]!, line });
    return row;
  }

  /** The fields of the compact record at `at`: the text read once (latin1: it is ASCII), then cut at the lengths. */
  private fieldsAt(bytes: Buffer, at: number): string[] {
    this.cursor = at;
    const n = this.varintAt(bytes) - 1;
    const lengthsAt = this.cursor;
    let total = 0;
    for (let i = 0; i < n; i++) total += this.varintAt(bytes);
    const text = bytes.toString('latin1', this.cursor, this.cursor + total);
    this.cursor = lengthsAt;
    const out = new Array<string>(n);
    for (let i = 0, from = 0; i < n; i++) {
      const length = this.varintAt(bytes);
      out[i] = text.slice(from, (from += length));
    }
    return out;
  }

  /** The varint at `cursor` (records in memory, written by this table: no corruption to check). */
  private varintAt(bytes: Buffer): number {
    let b = bytes[this.cursor++]!;
    if (b < 0x80) return b; // the common case: under 128
    let n = b & 0x7f;
    for (let scale = 128; ; scale *= 128) {
      b = bytes[this.cursor++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  }

  // The arrays a growth replaces are freed at the next young collection (freeSoon), not held
  // until a major one beside their doubles (a million rows: 8 + 4 MB more at the end).
  private growRows(): void {
    const meta = new Uint32Array(this.meta.length * 2);
    meta.set(this.meta);
    freeSoon(this.meta.buffer);
    this.meta = meta;
  }

  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.shift--;
    const mask = this.slots.length - 1;
    for (const v of old) {
      if (v === 0) continue;
      let s = this.slotOf(this.meta[(v - 1) * STRIDE + HASH]!);
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = v;
    }
    freeSoon(old.buffer);
  }
}
