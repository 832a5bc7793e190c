/**
 * sluice's spill format (pure: buffers in, buffers out; no files). A run file is
 *
 *   header  "SLSPILL" + version byte (3)
 *   blocks  [u32 byte length][u32 CRC-32 of those bytes][records] … (blocks.ts frames them)
 *   records [u32 payload length][payload] …
 *
 * and a payload is one row: its origin (or none; from a `sequential` writer, a flag saying the
 * source is the record before's), then the row as a tagged value. Every value
 * a row can hold comes back exactly: numbers as IEEE doubles (so -0 and NaN survive), strings
 * as UTF-8 when well-formed and as UTF-16 otherwise (lone surrogates survive), bigints,
 * Dates, Buffers, nested arrays/objects, and `__proto__` as an own key. An array of
 * strings only (a CSV row) is one tag: the strings' lengths as varints, then all their text
 * as one UTF-8 run (version 2 added it; ASCII text is copied by a loop and read as latin1). One CRC-32 covers a block of records, not each record (version 3). A
 * row that csv.parse read from a plain line and that is unchanged (its fields are still its
 * raw line's: see lib/core/raw-line.ts) is its raw line instead, and comes back with it in its
 * origin, so that csv.format copies the line rather than formatting the fields again (version 4).
 * A text row (lib/core/text-row.ts: a fused csv.read → sort → CSV sink passes rows as their
 * line and the fields the sort reads) is its width, delimiter, the fields read and the text,
 * and comes back as a text row (version 5). A
 * block whose length runs past the data or whose checksum differs, or whose records do not
 * fill it exactly, fails loudly: wrong rows are never returned.
 */
import { crc32 } from '../core/builtins.js';
import { setOrigin, originOf } from '../core/origin.js';
import { originWithRawLine, unchangedRawLine, type RawLine } from '../core/raw-line.js';
import { TextRow } from '../core/text-row.js';
import { UNIT_COPY_MAX, copyAscii, putVarint, withRoom } from './byte-writing.js';

export const SPILL_MAGIC = Buffer.from('SLSPILL', 'latin1');
export const SPILL_VERSION = 5;
export const HEADER_BYTES = SPILL_MAGIC.length + 1;
/** Bytes before a record's payload: its length (u32 LE). */
export const RECORD_HEAD = 4;
/** Bytes before a block's records: their length and their CRC-32 (both u32 LE). */
export const BLOCK_HEAD = 8;

const enum Tag {
  Null = 0, Undefined = 1, False = 2, True = 3, Number = 4, Utf8 = 5, Utf16 = 6,
  BigInt = 7, Date = 8, Buffer = 9, Array = 10, Object = 11, Strings = 12,
  /** A whole row only (never nested): its raw line, see the top of this file. */
  RawLine = 13,
  /** A whole row only: a text row, see the top of this file. */
  TextRow = 14,
}


/**
 * `text` cut at each `delimiter` into `n` fields, or undefined when it holds another number of
 * them: `String.prototype.split`'s result, with a loop of `indexOf` that measured ~25% faster
 * on a 43-field CSV line (it knows the count, and makes no array to check it after).
 */
function fieldsOf(text: string, delimiter: string, n: number): string[] | undefined {
  if (n < 1) return undefined;
  // Made at its size (grown a field at a time, a 43-field row's array is allocated three times).
  const row = new Array<string>(n);
  let at = 0;
  for (let i = 0; i < n - 1; i++) {
    const next = text.indexOf(delimiter, at);
    if (next < 0) return undefined;
    row[i] = text.slice(at, next);
    at = next + delimiter.length;
  }
  if (text.indexOf(delimiter, at) >= 0) return undefined;
  row[n - 1] = text.slice(at);
  return row;
}

export class SpillFormatError extends Error {
  override name = 'SpillFormatError';
}

export function header(): Buffer {
  return Buffer.concat([SPILL_MAGIC, Buffer.from([SPILL_VERSION])]);
}

/** Checks a run file's first bytes; throws naming `where` when they are not sluice's spill format of this version. */
export function checkHeader(bytes: Buffer, where: string): void {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, SPILL_MAGIC.length).equals(SPILL_MAGIC)) {
    throw new SpillFormatError(`${where} is not a sluice spill file (bad header)`);
  }
  const version = bytes[SPILL_MAGIC.length];
  if (version !== SPILL_VERSION) throw new SpillFormatError(`${where} has spill format version ${version}; this sluice reads version ${SPILL_VERSION}`);
}

/** Appends encoded records to a growing buffer. */
export class RecordWriter {
  private buf: Buffer;
  private pos = 0;
  /** The last record's origin source, when records are read in the order written (`sequential`). */
  private lastSource: string | undefined;

  /**
   * @param size - the buffer's first size in bytes (it doubles as records need)
   * @param sequential - the records are read back in the order written, from the start of a
   *   `view()`/`take()` (not reordered, as a sort run's are, nor read one by one): a record whose
   *   origin source is the last record's then says so in one byte instead of repeating it
   */
  constructor(size = 1 << 16, private readonly sequential = false) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.pos;
  }

  /** Bytes the writer's buffer holds (used or not). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Appends one row as a record. */
  add(row: unknown): void {
    const start = this.pos;
    this.ensure(RECORD_HEAD);
    this.pos += RECORD_HEAD;
    const origin = originOf(row);
    if (origin && this.sequential && origin.source === this.lastSource) {
      this.byte(2);
      this.double(origin.line);
    } else if (origin) {
      this.byte(1);
      this.string(origin.source);
      this.double(origin.line);
      if (this.sequential) this.lastSource = origin.source;
    } else {
      this.byte(0);
    }
    if (row instanceof TextRow) {
      if (row.appended.length === 0) this.textRow(row);
      else this.value(row.fields(), 0); // (a value added: as the plain row it stands for)
    } else {
      const raw = unchangedRawLine(row, origin);
      if (raw) this.rawLine(raw);
      else this.value(row, 0);
    }
    this.buf.writeUInt32LE(this.pos - start - RECORD_HEAD, start);
  }

  /** The records so far, as a view of the writer's own buffer: valid until the next `add` or `clear`. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Starts over (keeping the buffer). */
  clear(): void {
    this.pos = 0;
    this.lastSource = undefined;
  }

  /** The records so far (a copy), and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.clear();
    return out;
  }

  private ensure(n: number): void {
    this.buf = withRoom(this.buf, this.pos, n);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }

  private double(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  private string(s: string): void {
    // Length first (at most 3 UTF-8 bytes per UTF-16 unit), then written in place: a short
    // ASCII string (a row's source, a key) by a loop, cheaper than a native call.
    this.ensure(4 + s.length * 3);
    const end = s.length <= 64 ? copyAscii(this.buf, s, this.pos + 4) : -1;
    if (end >= 0) {
      this.buf.writeUInt32LE(s.length, this.pos);
      this.pos = end;
      return;
    }
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }

  /**
   * An array of strings only, whose text is well-formed, as one `Strings` value; false
   * otherwise (nothing written). The text is written as UTF-8 first: as many bytes as UTF-16
   * units means it is all ASCII, so well-formed without scanning it again.
   */
  private strings(v: unknown[]): boolean {
    const n = v.length;
    if (n === 0) return false;
    for (let i = 0; i < n; i++) if (typeof v[i] !== 'string') return false;
    const start = this.pos;
    this.ensure(1 + 5 * (n + 1));
    this.buf[this.pos++] = Tag.Strings;
    this.varint(n);
    for (let i = 0; i < n; i++) this.varint((v[i] as string).length);
    if (this.ascii(v as string[])) return true;
    const text = (v as string[]).join('');
    this.ensure(4 + text.length * 3);
    const bytes = this.buf.write(text, this.pos + 4, 'utf8');
    if (bytes !== text.length && !(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      this.pos = start;
      return false;
    }
    this.buf.writeUInt32LE(bytes, this.pos);
    this.pos += 4 + bytes;
    return true;
  }

  /**
   * Strings that are all ASCII, copied unit by unit after their byte count (a CSV row mostly is); false, nothing written, at the first other unit
   * — or when they are longer than `UNIT_COPY_MAX` units in all: then one native write of their text is cheaper than the loop.
   */
  private ascii(v: string[]): boolean {
    let total = 0;
    for (let i = 0; i < v.length; i++) total += v[i]!.length;
    if (total > UNIT_COPY_MAX) return false;
    this.ensure(4 + total);
    let p = this.pos + 4;
    for (let i = 0; i < v.length && p >= 0; i++) p = copyAscii(this.buf, v[i]!, p);
    if (p < 0) return false;
    this.buf.writeUInt32LE(total, this.pos);
    this.pos = p;
    return true;
  }

  /** A row as its raw line: the field count, delimiter, quote, whether a field has space at its edge, and the text. */
  private rawLine(raw: RawLine): void {
    this.ensure(6);
    this.buf[this.pos++] = Tag.RawLine;
    this.varint(raw.fields.length);
    this.buf[this.pos++] = raw.edgeSpace === undefined ? 2 : raw.edgeSpace ? 1 : 0;
    this.string(raw.delimiter);
    this.string(raw.quote);
    this.string(raw.text);
  }

  /** A text row: its width, whether a field has space at its edge, the delimiter, the fields read (as values) and the text. */
  private textRow(row: TextRow): void {
    this.ensure(12);
    this.buf[this.pos++] = Tag.TextRow;
    this.varint(row.width);
    this.buf[this.pos++] = row.edgeSpace ? 1 : 0;
    this.string(row.delimiter);
    this.ensure(5);
    this.varint(row.reads.length);
    // As values: a field read past the row's end is undefined (its key then is no key).
    for (const field of row.reads) this.value(field, 1);
    this.string(row.text);
  }

  /** A varint, in room already ensured (at most 5 bytes). */
  private varint(n: number): void {
    this.pos = putVarint(this.buf, this.pos, n);
  }

  private value(v: unknown, depth: number): void {
    if (depth > 1000) throw new SpillFormatError('a row nested deeper than 1000 levels cannot be spilled');
    switch (typeof v) {
      case 'number':
        this.byte(Tag.Number);
        this.double(v);
        return;
      case 'string':
        if ((v as unknown as { isWellFormed(): boolean }).isWellFormed()) {
          this.byte(Tag.Utf8);
          this.string(v);
        } else {
          this.byte(Tag.Utf16);
          this.u32(v.length * 2);
          this.ensure(v.length * 2);
          this.pos += this.buf.write(v, this.pos, 'utf16le');
        }
        return;
      case 'boolean':
        this.byte(v ? Tag.True : Tag.False);
        return;
      case 'undefined':
        this.byte(Tag.Undefined);
        return;
      case 'bigint':
        this.byte(Tag.BigInt);
        this.string(v.toString());
        return;
      case 'object':
        if (v === null) this.byte(Tag.Null);
        else if (v instanceof Date) {
          this.byte(Tag.Date);
          this.double(v.getTime());
        } else if (Buffer.isBuffer(v)) {
          this.byte(Tag.Buffer);
          this.u32(v.length);
          this.ensure(v.length);
          v.copy(this.buf, this.pos);
          this.pos += v.length;
        } else if (Array.isArray(v)) {
          if (this.strings(v)) return;
          this.byte(Tag.Array);
          this.u32(v.length);
          for (const item of v) this.value(item, depth + 1);
        } else {
          const keys = Object.keys(v);
          this.byte(Tag.Object);
          this.u32(keys.length);
          for (const key of keys) {
            this.string(key);
            this.value((v as Record<string, unknown>)[key], depth + 1);
          }
        }
        return;
      default:
        throw new SpillFormatError(`a ${typeof v} cannot be spilled to disk`);
    }
  }
}

/**
 * Reads the rows of a run file's blocks: `load` takes the bytes read so far and checks every
 * block wholly inside them, then `next` decodes their records one at a time (so a reader holds
 * the block's bytes, not its rows); `where` names the file in errors.
 */
export class RecordReader {
  private pos = 0;
  private end = 0;
  private buf: Buffer = Buffer.alloc(0);
  /** The loaded bytes, the next record's offset in them, the current block's end, and the checked blocks' end. */
  private src: Buffer = Buffer.alloc(0);
  private at = 0;
  private blockEnd = 0;
  private checked = 0;
  /** The last origin source read (a sequential writer's records name it once). */
  private lastSource: string | undefined;

  constructor(private readonly where: string) {}

  /**
   * Takes `bytes` (the bytes after the last `used`, and more) and checks the blocks wholly
   * inside them against their CRC-32s; the rest is the start of a block that continues. Their
   * rows come out of `next()`; `bytes` must stay unchanged until it returns `undefined`.
   */
  load(bytes: Buffer): void {
    let at = 0;
    while (bytes.length - at >= BLOCK_HEAD) {
      const length = bytes.readUInt32LE(at);
      if (bytes.length - at - BLOCK_HEAD < length) break;
      if (crc32(bytes.subarray(at + BLOCK_HEAD, at + BLOCK_HEAD + length)) !== bytes.readUInt32LE(at + 4)) {
        throw new SpillFormatError(`${this.where} is corrupted: a block's checksum does not match`);
      }
      at += BLOCK_HEAD + length;
    }
    this.src = bytes;
    this.at = this.blockEnd = 0;
    this.checked = at;
  }

  /** Bytes of the loaded ones that the checked blocks take. */
  get used(): number {
    return this.checked;
  }

  /** The next row of the checked blocks, or `undefined` when they are all read (rows themselves are never undefined). */
  next(): unknown {
    const src = this.src;
    if (this.at === this.blockEnd) {
      if (this.at >= this.checked) return undefined;
      this.blockEnd = this.at + BLOCK_HEAD + src.readUInt32LE(this.at);
      this.at += BLOCK_HEAD;
      if (this.at === this.blockEnd) return this.corrupt(); // blocks are never empty
    }
    // The block's records fill it exactly: one running past its end is corrupt.
    if (this.blockEnd - this.at < RECORD_HEAD) this.corrupt();
    const end = this.at + RECORD_HEAD + src.readUInt32LE(this.at);
    if (end > this.blockEnd) this.corrupt();
    const row = this.decode(src, this.at + RECORD_HEAD, end);
    this.at = end;
    return row;
  }

  /** The row of the one record that starts at `at` in `bytes` (for records held in memory, e.g. a sort run before it is spilled: no checksum). */
  record(bytes: Buffer, at: number): unknown {
    const end = at + RECORD_HEAD + bytes.readUInt32LE(at);
    if (end > bytes.length) throw new SpillFormatError(`${this.where} is truncated: a record runs past its end`);
    return this.decode(bytes, at + RECORD_HEAD, end);
  }

  /** Called at the end of the file with the bytes no record took: any is a truncation. */
  finish(leftover: number): void {
    if (leftover > 0) throw new SpillFormatError(`${this.where} is truncated: ${leftover} byte(s) of an incomplete block at its end`);
  }

  private decode(bytes: Buffer, start: number, end: number): unknown {
    this.buf = bytes;
    this.pos = start;
    this.end = end;
    // The origin's parts, not an object: a raw line's row gets an origin of its own (rawRow).
    let source: string | undefined;
    let line = 0;
    const hasOrigin = this.byte();
    if (hasOrigin === 1) source = this.lastSource = this.string();
    else if (hasOrigin === 2 && this.lastSource !== undefined) source = this.lastSource;
    else if (hasOrigin !== 0) this.corrupt();
    if (source !== undefined) line = this.double();
    if (source !== undefined && this.pos < this.end && this.buf[this.pos] === Tag.RawLine) return this.rawRow(source, line);
    if (this.pos < this.end && this.buf[this.pos] === Tag.TextRow) return this.textRow(source, line);
    const row = this.value();
    if (this.pos !== this.end) this.corrupt();
    if (source !== undefined) setOrigin(row, { source, line });
    return row;
  }

  /** A row written as its raw line: the line's fields, the line in their origin again. */
  private rawRow(source: string, line: number): string[] {
    this.pos++;
    const n = this.varint();
    const space = this.byte();
    if (space > 2) this.corrupt();
    const delimiter = this.string();
    const quote = this.string();
    const text = this.string();
    if (this.pos !== this.end || delimiter === '') this.corrupt();
    const row = fieldsOf(text, delimiter, n) ?? this.corrupt();
    const raw: RawLine = { text, fields: row.slice(), delimiter, quote, edgeSpace: space === 2 ? undefined : space === 1 };
    setOrigin(row, originWithRawLine(source, line, raw));
    return row;
  }

  /** A row written as a text row: a text row again, with its origin. */
  private textRow(source: string | undefined, line: number): TextRow {
    this.pos++;
    const width = this.varint();
    const space = this.byte();
    if (space > 1) this.corrupt();
    const delimiter = this.string();
    const reads = new Array<string>(this.varint());
    for (let i = 0; i < reads.length; i++) reads[i] = this.value() as string;
    const text = this.string();
    if (this.pos !== this.end || delimiter === '') this.corrupt();
    const row = new TextRow(text, delimiter, width, space === 1, reads);
    if (source !== undefined) setOrigin(row, { source, line });
    return row;
  }

  private corrupt(): never {
    throw new SpillFormatError(`${this.where} is corrupted: a record does not decode`);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.corrupt();
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const n = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return n;
  }

  private double(): number {
    this.need(8);
    const n = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return n;
  }

  private string(): string {
    const n = this.u32();
    this.need(n);
    if (n === 1 && this.buf[this.pos]! < 0x80) return String.fromCharCode(this.buf[this.pos++]!); // a raw line's delimiter and quote: no native call
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  private varint(): number {
    const b = this.pos < this.end ? this.buf[this.pos]! : 0x80;
    if (b < 0x80) { // one byte: the common case (lengths under 128)
      this.pos++;
      return b;
    }
    let n = 0;
    // (A running scale, not `2 ** shift`: that is a Math.pow call each byte.)
    for (let shift = 0, scale = 1; shift < 35; shift += 7, scale *= 128) {
      const c = this.byte();
      n += (c & 0x7f) * scale;
      if (c < 0x80) return n;
    }
    return this.corrupt();
  }

  private value(): unknown {
    const tag = this.byte();
    switch (tag) {
      case Tag.Null: return null;
      case Tag.Undefined: return undefined;
      case Tag.False: return false;
      case Tag.True: return true;
      case Tag.Number: return this.double();
      case Tag.Utf8: return this.string();
      case Tag.Utf16: {
        const n = this.u32();
        this.need(n);
        const s = this.buf.toString('utf16le', this.pos, this.pos + n);
        this.pos += n;
        return s;
      }
      case Tag.BigInt: return BigInt(this.string());
      case Tag.Date: return new Date(this.double());
      case Tag.Buffer: {
        const n = this.u32();
        this.need(n);
        const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
        this.pos += n;
        return b;
      }
      case Tag.Strings: {
        const n = this.varint();
        const lengthsAt = this.pos;
        let total = 0;
        for (let i = 0; i < n; i++) total += this.varint();
        const bytes = this.u32();
        this.need(bytes);
        // As many bytes as units: ASCII, which latin1 decodes as UTF-8 would, without validating.
        const text = this.buf.toString(bytes === total ? 'latin1' : 'utf8', this.pos, this.pos + bytes);
        if (text.length !== total) this.corrupt();
        const after = this.pos + bytes;
        this.pos = lengthsAt; // the lengths again, to cut the text (no array of them)
        const out = new Array<string>(n);
        for (let i = 0, at = 0; i < n; i++) {
          const length = this.varint();
          out[i] = text.slice(at, (at += length));
        }
        this.pos = after;
        return out;
      }
      case Tag.Array: {
        const n = this.u32();
        const out: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case Tag.Object: {
        const n = this.u32();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.string();
          const v = this.value();
          // `out.__proto__ = v` would set the prototype; an own key is what was spilled.
          if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
          else out[key] = v;
        }
        return out;
      }
      default:
        return this.corrupt();
    }
  }
}
