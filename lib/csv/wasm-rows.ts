/**
 * Rows from UTF-8 byte chunks by the WebAssembly boundary kernel (wasm-scanner.ts), with
 * RFC 4180 fields: the seam csv.parse can call instead of decoding the text and running the
 * JS scanner. Only the fields a projection wants are made into strings, read straight at their
 * entries; a row's width is the distance between its row ends. Not used by csv.read/csv.parse yet.
 *
 * Bytes stay in one window from the start of the unfinished row, so a row cut by a chunk end
 * is copied, not scanned again (the kernel carries its state); the window grows only for a
 * row longer than it, and `pendingBytes` lets the caller enforce `maxRowBytes`. When the
 * kernel meets a quote it does not read, `fallback` is set: the rows before it are returned,
 * and `rest()` is the input from that row on, for the JS scanner to read from there.
 */
import { isAscii } from 'node:buffer';
import { WasmCsvScanner, type WasmDialect } from './wasm-scanner.js';

const QUOTE = 0x22;

export interface WasmRowsResult {
  /** The complete rows: all fields, or the projected ones (`undefined` past a row's width). */
  rows: string[][];
  /** Each row's field count in the input. */
  widths: number[];
  /** How many lines each row spans: 1, plus the line breaks inside its quoted fields. */
  lines: number[];
  /** Whether the row after these needs the JS scanner (see `WasmRows.rest`). */
  fallback: boolean;
}

export interface WasmRowsOptions {
  /** Field indexes to keep, in this order; null for all fields. @default null */
  columns?: readonly number[] | null;
  /** Whether a byte-order mark at the start is skipped. @default true */
  stripBom?: boolean;
}

export class WasmRows {
  private readonly scanner: WasmCsvScanner;
  private readonly quote: number;
  private readonly columns: readonly number[] | null;
  /** 1 at each wanted field index (all wanted without a projection). */
  private readonly wanted: Uint8Array | null;
  private window: Buffer = Buffer.allocUnsafe(1 << 18);
  private length = 0;
  private rowStart = 0;
  private fieldStart = 0;
  /** Whether an entry came yet (then the byte-order mark is decided). */
  private started = false;
  private values: string[] = [];
  private index = 0;
  /** The window as one string when it is ASCII (fields are its slices), else null. */
  private text: string | null = null;
  /** The next quote at or after the current row (window offset; `length` when none). */
  private nextQuote = 0;
  private failed = false;

  /**
   * A reader for one input, or null when the kernel is not built or cannot read the dialect.
   * @param dialect - delimiter, quote and escape (the escape must be the quote)
   * @param options - projection and byte-order mark handling
   * @example
   * const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns: [2, 7] });
   */
  static create(dialect: WasmDialect, options: WasmRowsOptions = {}): WasmRows | null {
    const scanner = WasmCsvScanner.create(dialect, options.stripBom ?? true);
    return scanner ? new WasmRows(scanner, dialect.quote.charCodeAt(0), options.columns ?? null) : null;
  }

  private constructor(scanner: WasmCsvScanner, quote: number, columns: readonly number[] | null) {
    this.scanner = scanner;
    this.quote = quote;
    this.columns = columns;
    if (columns) {
      const last = Math.max(-1, ...columns);
      this.wanted = new Uint8Array(last + 1);
      for (const column of columns) this.wanted[column] = 1;
    } else this.wanted = null;
  }

  /** Bytes of the unfinished row so far (for a `maxRowBytes` check). */
  get pendingBytes(): number {
    return this.length - this.rowStart;
  }

  /** The rows these bytes complete. */
  push(chunk: Uint8Array): WasmRowsResult {
    if (this.failed) throw new Error('WasmRows: the input goes on with the JS scanner after a fallback');
    const from = this.append(chunk);
    const result: WasmRowsResult = { rows: [], widths: [], lines: [], fallback: false };
    const { capacity } = this.scanner;
    for (let at = from; at < this.length && !result.fallback; at += capacity) {
      this.take(this.scanner.scan(this.window, at, Math.min(this.length, at + capacity)), result);
    }
    return result;
  }

  /** The rows left at the end of the input (a last row without a line break). */
  end(): WasmRowsResult {
    const result: WasmRowsResult = { rows: [], widths: [], lines: [], fallback: false };
    if (!this.failed) this.take(this.scanner.finish(this.length), result);
    return result;
  }

  /** After a fallback: the input from the row the kernel did not read (after a byte-order mark), for the JS scanner. */
  rest(): Buffer {
    const from = this.started ? this.rowStart : this.scanner.bom;
    return Buffer.from(this.window.subarray(from, this.length));
  }

  /** Appends `chunk` behind the unfinished row (moved to the front); returns where it starts. */
  private append(chunk: Uint8Array): number {
    const shift = this.rowStart;
    const keep = this.length - shift;
    let window = this.window;
    if (keep + chunk.length > window.length) {
      window = Buffer.allocUnsafe(2 * (keep + chunk.length));
      this.window.copy(window, 0, shift, this.length);
      this.window = window;
    } else if (shift > 0) window.copyWithin(0, shift, this.length);
    window.set(chunk, keep);
    this.length = keep + chunk.length;
    this.rowStart = 0;
    this.fieldStart -= shift;
    // One string for the window, unless a long row would be decoded again with every chunk.
    const bytes = window.subarray(0, this.length);
    this.text = keep <= chunk.length && isAscii(bytes) ? bytes.toString('latin1') : null;
    this.nextQuote = -1;
    return keep;
  }

  /** Reads the kernel's entries into rows. */
  private take(result: number, out: WasmRowsResult): void {
    const count = result < 0 ? ~result : result;
    if (!this.started && count > 0) {
      this.started = true;
      this.rowStart = this.fieldStart = this.scanner.bom;
    }
    this.walk(this.columns ? this.jump(out) : 0, count, out);
    if (result < 0) {
      this.failed = true;
      out.fallback = true;
    }
  }

  /** Entries [from, count), one by one: each field decoded if wanted, each row end a row of all fields. */
  private walk(from: number, count: number, out: WasmRowsResult): void {
    const entries = this.scanner.entries;
    const wanted = this.wanted;
    for (let k = from; k < count; k++) {
      const e = entries[k];
      if (e >= 0) {
        const index = this.index++;
        if (wanted === null || (index < wanted.length && wanted[index] === 1)) this.values[index] = this.field(this.fieldStart, e);
        this.fieldStart = e + 1;
        continue;
      }
      // (With a projection `jump` took the row ends: only the unfinished row's fields are left.)
      this.endRow(this.values, this.index, ~e, out);
      this.values = [];
    }
  }

  /**
   * With a projection: the rows that end in this call, each read straight at its wanted
   * fields' entries (its width the distance between row ends). Returns the index of the
   * first entry after them (the unfinished row's, for `walk`).
   */
  private jump(out: WasmRowsResult): number {
    const entries = this.scanner.entries;
    const ends = this.scanner.rowEnds;
    const rows = this.scanner.rowCount;
    const columns = this.columns!;
    let first = 0;
    for (let r = 0; r < rows; r++) {
      const endAt = ends[r];
      // Fields of this row that ended in earlier calls (read by `walk` into `values`).
      const before = this.index;
      const width = before + endAt - first;
      const row: string[] = [];
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i];
        const j = column - before;
        if (column >= width) row.push(undefined as unknown as string);
        else if (j < 0) row.push(this.values[column]);
        else row.push(this.field(j === 0 ? this.fieldStart : entries[first + j - 1] + 1, entries[first + j]));
      }
      this.endRow(row, width, ~entries[endAt], out);
      first = endAt + 1;
    }
    return first;
  }

  private endRow(row: string[], width: number, end: number, out: WasmRowsResult): void {
    out.rows.push(row);
    out.widths.push(width);
    out.lines.push(this.linesOf(this.rowStart, end));
    this.index = 0;
    this.rowStart = this.fieldStart = end;
  }

  /** The field in window[start, end): quotes removed and doubled quotes halved. */
  private field(start: number, end: number): string {
    if (this.window[start] !== this.quote) return this.slice(start, end);
    const inner = this.slice(start + 1, end - 1);
    const quote = String.fromCharCode(this.quote);
    return inner.includes(quote) ? inner.replaceAll(quote + quote, quote) : inner;
  }

  private slice(start: number, end: number): string {
    return this.text !== null ? this.text.slice(start, end) : this.window.toString('utf8', start, end);
  }

  /** 1 plus the line breaks inside quoted fields of the row in [start, end). */
  private linesOf(start: number, end: number): number {
    if (this.nextQuote < start) {
      const at = this.window.indexOf(this.quote, start);
      this.nextQuote = at === -1 || at >= this.length ? this.length : at;
    }
    if (this.nextQuote >= end) return 1;
    // A row with a quote: each line break in it starts a line, except the one that ends it.
    const window = this.window;
    let lines = 1;
    for (let i = start; i < end; i++) {
      const c = window[i];
      if (c === 10 || (c === 13 && (i + 1 >= this.length || window[i + 1] !== 10))) lines++;
    }
    const last = window[end - 1];
    return end > start && (last === 10 || last === 13) ? lines - 1 : lines;
  }
}
