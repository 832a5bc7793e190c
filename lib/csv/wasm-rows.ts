/**
 * Rows from UTF-8 byte chunks by the WebAssembly boundary kernel (wasm-scanner.ts), with
 * RFC 4180 fields: the seam csv.parse can call instead of decoding the text and running the
 * JS scanner. Only the fields a projection wants are made into strings, read straight at their
 * entries; a row's width is the distance between its row ends. csv.parse reads with it where it can (wasm-parse.ts).
 *
 * Bytes stay in one window from the start of the unfinished row, so a row cut by a chunk end
 * is copied, not scanned again (the kernel carries its state); the window grows only for a
 * row longer than it, and `pendingBytes` lets the caller enforce `maxRowBytes`. When the
 * kernel meets a quote it does not read, `fallback` is set: the rows before it are returned,
 * and `rest()` is the input from that row on, for the JS scanner to read from there.
 */
import { isAscii } from 'node:buffer';
import { FieldTests } from './field-tests.js';
import { WasmCsvScanner, type WasmDialect } from './wasm-scanner.js';
import { TextRow } from '../core/text-row.js';

const QUOTE = 0x22;
/** Bytes of rows (at least) whose fields share one string, which a kept field keeps alive (see `copyRows`). */
const SEGMENT = 1024;

export interface WasmRowsResult {
  /**
   * The complete rows: all fields, or the projected ones (`undefined` past a row's width);
   * null for a run of rows a fused `where` drops (see `WasmRowsOptions.where`), never made:
   * its `widths` entry is how many rows, its `lines` entry their lines; with `textReads`, a
   * TextRow for a row of the expected width with no quote.
   */
  rows: (string[] | TextRow | null)[];
  /** Each row's field count in the input. */
  widths: number[];
  /** How many lines each row spans: 1, plus the line breaks inside its quoted fields. */
  lines: number[];
  /** Whether the row after these needs the JS scanner (see `WasmRows.rest`). */
  fallback: boolean;
  /** With the `raw` option: each row's text without its line break where it has no quote and no CR, else null. */
  raws?: (string | null)[];
  /**
   * With the `raw` option: per row, false when no field starts or ends with whitespace (read
   * off its bytes: none at a field's edge is ASCII whitespace or part of a multi-byte
   * character), true when one may.
   */
  edgeSpaces?: boolean[];
}

export interface WasmRowsOptions {
  /** Field indexes to keep, in this order; null for all fields. @default null */
  columns?: readonly number[] | null;
  /** Whether a byte-order mark at the start is skipped. @default true */
  stripBom?: boolean;
  /** Whether an empty line is a row of no fields (width 0), as the JS scanner gives it, instead of `['']`. @default false */
  emptyRows?: boolean;
  /** Whether each row's raw text is reported (see `WasmRowsResult.raws`; only without a projection). @default false */
  raw?: boolean;
  /**
   * A fused `where`'s conditions on the projected row (`column`: a position in `columns`,
   * or a column without a projection): once `expectWidth` is told the rows' width, a row of
   * that width whose bytes fail one is returned as null (see field-tests.ts). Not with a
   * projection the kernel does not read itself.
   */
  where?: readonly { readonly column: number; readonly values: readonly string[] }[];
  /**
   * With `raw`: rows of the width told to `expectWidth` that hold no quote come as TextRows (see lib/core/text-row.ts) holding these fields only. @default null
   */
  textReads?: readonly number[] | null;
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
  /** Where the last complete row started (negative once moved out of the window). */
  private lastRowStart = -1;
  private fieldStart = 0;
  /** Whether an entry came yet (then the byte-order mark is decided). */
  private started = false;
  private values: string[] = [];
  private index = 0;
  /** Whether the window is ASCII (then fields are slices of `segment`, see `slice`). */
  private ascii = false;
  /** With `text`: a copy of the rows from `segmentStart` to `segmentEnd` (the current row among them), for its fields to be slices of; else null. */
  private segment: string | null = null;
  private segmentStart = 0;
  private segmentEnd = 0;
  /** The next quote at or after the current row (window offset; `length` when none). */
  private nextQuote = 0;
  private failed = false;
  private readonly emptyRows: boolean;
  private readonly raw: boolean;
  /** The next CR at or after the current row (as `nextQuote`), for `rawOf`. */
  private nextCr = 0;
  /** With `raw`: whether a field of the current row may start or end with whitespace (see `edgeSpaces`). */
  private edgeSpace = false;
  /** With a projection the kernel reads itself (see WasmCsvScanner.project): each wanted column's ordinal in its records. */
  private ordinals: number[] | null = null;
  /** A fused `where`'s byte tests, or null. */
  private readonly tests: FieldTests | null;
  /** The width of the rows `tests` may drop (-1: none yet). */
  private expectedWidth = -1;
  private readonly textReads: readonly number[] | null;
  private readonly delimiter: string;

  /**
   * A reader for one input, or null when the kernel is not built or cannot read the dialect.
   * @param dialect - delimiter, quote and escape (the escape must be the quote)
   * @param options - projection and byte-order mark handling
   * @example
   * const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns: [2, 7] });
   */
  static create(dialect: WasmDialect, options: WasmRowsOptions = {}): WasmRows | null {
    const scanner = WasmCsvScanner.create(dialect, options.stripBom ?? true);
    return scanner ? new WasmRows(scanner, dialect.quote.charCodeAt(0), dialect.delimiter, options) : null;
  }

  private constructor(scanner: WasmCsvScanner, quote: number, delimiter: string, options: WasmRowsOptions) {
    const columns = options.columns ?? null;
    this.scanner = scanner;
    const where = options.where ?? null;
    let tests: FieldTests | null = null;
    if (columns) {
      const kept = [...new Set(columns)].sort((a, b) => a - b);
      const ordinals = columns.map((column) => kept.indexOf(column));
      const projected = where && FieldTests.of(where.map(({ column, values }) => ({ slot: ordinals[column]!, values })), quote);
      // The kernel drops what it can decide itself; the same tests still run here on the rows it keeps.
      if (scanner.project(kept, projected?.encoded() ?? null)) {
        this.ordinals = ordinals;
        tests = projected;
      }
    } else if (where) tests = FieldTests.of(where.map(({ column, values }) => ({ slot: column, values })), quote);
    this.tests = tests;
    this.quote = quote;
    this.columns = columns;
    this.emptyRows = options.emptyRows ?? false;
    this.raw = (options.raw ?? false) && columns === null;
    this.textReads = this.raw ? (options.textReads ?? null) : null;
    this.delimiter = delimiter;
    if (columns) {
      const last = Math.max(-1, ...columns);
      this.wanted = new Uint8Array(last + 1);
      for (const column of columns) this.wanted[column] = 1;
    } else this.wanted = null;
  }

  /** From now on, rows of `width` fields whose bytes fail the `where` tests are dropped (returned as null); -1 stops that. */
  expectWidth(width: number): void {
    this.expectedWidth = width;
    if (this.ordinals && this.scanner.drops) this.scanner.dropWidth(width > 1 ? width : 0);
  }

  /** Bytes of the unfinished row so far (for a `maxRowBytes` check). */
  get pendingBytes(): number {
    return this.length - this.rowStart;
  }

  /**
   * The bytes the JS scanner would hold as its unfinished row (for the same `maxRowBytes`
   * check): a row ended by a CR as the last byte so far counts (it waits to see whether an LF
   * follows), a character cut off at the end does not (a text decoder holds it back).
   */
  get jsPendingBytes(): number {
    const end = this.decodedEnd();
    return end - (this.endsAtCr ? this.lastRowStart : this.rowStart);
  }

  /**
   * Whether the last row returned ended at a CR that is the last byte so far, but for a
   * character cut off after it (the JS scanner would still hold that row).
   */
  get endsAtCr(): boolean {
    const end = this.decodedEnd();
    return this.rowStart === end && end > 0 && this.window[end - 1] === 13 && this.lastRowStart >= 0;
  }

  /** The end of the bytes so far without a character cut off at the end. */
  private decodedEnd(): number {
    return this.length - cutCharacter(this.window, this.rowStart, this.length);
  }

  /** The rows these bytes complete. */
  push(chunk: Uint8Array): WasmRowsResult {
    if (this.failed) throw new Error('WasmRows: the input goes on with the JS scanner after a fallback');
    const from = this.append(chunk);
    const result = this.result();
    const { capacity } = this.scanner;
    if (this.ordinals) {
      for (let at = from; at < this.length && !result.fallback; at += this.scanner.consumed) {
        this.takeRecords(this.scanner.scanProjected(this.window, at, Math.min(this.length, at + capacity)), result);
      }
      return result;
    }
    for (let at = from; at < this.length && !result.fallback; at += capacity) {
      this.take(this.scanner.scan(this.window, at, Math.min(this.length, at + capacity)), result);
    }
    return result;
  }

  /** The rows left at the end of the input (a last row without a line break). */
  end(): WasmRowsResult {
    const result = this.result();
    if (this.failed) return result;
    if (this.ordinals) this.takeRecords(this.scanner.finishProjected(this.length), result);
    else this.take(this.scanner.finish(this.length), result);
    return result;
  }

  private result(): WasmRowsResult {
    const result: WasmRowsResult = { rows: [], widths: [], lines: [], fallback: false };
    if (this.raw) {
      result.raws = [];
      result.edgeSpaces = [];
    }
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
    if (shift > 0 && this.ordinals) this.scanner.rebase(shift);
    window.set(chunk, keep);
    this.length = keep + chunk.length;
    this.rowStart = 0;
    this.fieldStart -= shift;
    this.lastRowStart -= shift;
    // Latin-1 strings when ASCII, unless a long row would be checked again with every chunk.
    this.ascii = keep <= chunk.length && isAscii(window.subarray(0, this.length));
    this.segment = null;
    this.nextQuote = -1;
    this.nextCr = -1;
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
    const ends = this.scanner.rowEnds;
    const rows = this.scanner.rowCount;
    const wanted = this.wanted;
    const window = this.window;
    const raw = this.raw;
    // Without a projection every row end in [from, count) is one of `ends`, in order.
    let r = 0;
    if (wanted === null) this.copyRows(r);
    // The row's state in locals while its fields are read (written back at a row end and at the end).
    let values = this.values;
    let index = this.index;
    let start = this.fieldStart;
    let edgeSpace = this.edgeSpace;
    const width = this.expectedWidth;
    const tests = wanted === null && width > 1 ? this.tests : null;
    const text = wanted === null && width > 1 && this.textReads !== null;
    for (let k = from; k < count; k++) {
      // At a row's first entry: a row of the expected width that fails the `where` is dropped unmade.
      if (tests !== null && index === 0 && r < rows && ends[r]! - k === width && tests.failsAmong(window, entries, k, start, width)) {
        k = ends[r]!;
        this.dropRow(~entries[k]!, out);
        start = this.fieldStart;
        r++;
        if (this.segment === null || this.rowStart >= this.segmentEnd) this.copyRows(r);
        continue;
      }
      // At a row's first entry: a row of the expected width with no quote goes as its text.
      if (text && index === 0 && r < rows && ends[r]! - k === width && this.plain(entries[ends[r]! - 1]!)) {
        this.textRow(k, width, out);
        k = ends[r]!;
        start = this.fieldStart;
        r++;
        if (this.segment === null || this.rowStart >= this.segmentEnd) this.copyRows(r);
        continue;
      }
      const e = entries[k];
      if (e >= 0) {
        if (wanted === null || (index < wanted.length && wanted[index] === 1)) values[index] = this.field(start, e);
        if (raw && e > start && (mayBeSpace(window[start]) || mayBeSpace(window[e - 1]))) edgeSpace = true;
        index++;
        start = e + 1;
        continue;
      }
      // (With a projection `jump` took the row ends: only the unfinished row's fields are left.)
      this.edgeSpace = edgeSpace;
      if (values.length > index) values.length = index; // a row shorter than the width it was made for
      this.endRow(values, index, ~e, out);
      // Made at the rows' width once it is known: filled by index, an array grown a field at a
      // time is allocated three times over for 43 fields (1.1 KB of garbage a row instead of 360 B).
      values = wanted === null && width > 0 ? new Array<string>(width) : [];
      index = 0;
      start = this.fieldStart;
      edgeSpace = false;
      r++;
      if (wanted === null && (this.segment === null || this.rowStart >= this.segmentEnd)) this.copyRows(r);
    }
    this.values = values;
    this.index = index;
    this.fieldStart = start;
    this.edgeSpace = edgeSpace;
  }

  /**
   * Whether the row from `rowStart` holds no quote before `end`, where its line break starts
   * (then no CR either: outside quotes a CR ends the row).
   */
  private plain(end: number): boolean {
    const start = this.rowStart;
    if (this.nextQuote < start) {
      const at = this.window.indexOf(this.quote, start);
      this.nextQuote = at === -1 || at >= this.length ? this.length : at;
    }
    return this.nextQuote >= end;
  }

  /** Ends the row whose `width` fields end at entries [k, k + width) (its row end next) as a TextRow. */
  private textRow(k: number, width: number, out: WasmRowsResult): void {
    const entries = this.scanner.entries;
    const window = this.window;
    const start = this.rowStart;
    const reads = this.textReads!;
    const fields = new Array<string>(reads.length);
    for (let i = 0; i < reads.length; i++) {
      const j = reads[i]!;
      fields[i] = j >= width ? (undefined as unknown as string) : this.slice(j === 0 ? start : entries[k + j - 1]! + 1, entries[k + j]!);
    }
    let edgeSpace = false;
    for (let i = 0, s = start; i < width && !edgeSpace; i++) {
      const e = entries[k + i]!;
      edgeSpace = e > s && (mayBeSpace(window[s]!) || mayBeSpace(window[e - 1]!));
      s = e + 1;
    }
    out.rows.push(new TextRow(this.slice(start, entries[k + width - 1]!), this.delimiter, width, edgeSpace, fields));
    out.widths.push(width);
    out.lines.push(1);
    out.raws!.push(null);
    out.edgeSpaces!.push(edgeSpace);
    this.index = 0;
    this.lastRowStart = start;
    this.rowStart = this.fieldStart = ~entries[k + width]!;
  }

  /** The projected scan's row records: each row's wanted fields read at the positions the kernel kept. */
  private takeRecords(result: number, out: WasmRowsResult): void {
    const count = result < 0 ? ~result : result;
    if (!this.started && count > 0) {
      this.started = true;
      this.rowStart = this.fieldStart = this.scanner.bom;
    }
    const records = this.scanner.entries;
    const stride = this.scanner.stride;
    const ordinals = this.ordinals!;
    const next = stride - 2;
    const tests = this.expectedWidth > 1 ? this.tests : null;
    const drops = this.scanner.drops;
    for (let r = 0, at = 0; r < count; r++, at += stride) {
      // Rows the kernel dropped before this one (see WasmCsvScanner.project).
      if (drops && records[at + next - 2]! > 0) this.droppedRun(records[at + next - 2]!, records[at + next - 1]!, out);
      if (tests !== null && records[at + next + 1] === this.expectedWidth && tests.fails(this.window, records, at)) {
        this.dropRow(records[at + next], out);
        continue;
      }
      if (this.segment === null || this.rowStart >= this.segmentEnd) this.copyRecords(r, count);
      const row: string[] = new Array(ordinals.length);
      for (let i = 0; i < ordinals.length; i++) {
        const start = records[at + 2 * ordinals[i]];
        row[i] = start < 0 ? (undefined as unknown as string) : this.field(start, records[at + 2 * ordinals[i] + 1]);
      }
      this.endRow(row, records[at + next + 1], records[at + next], out);
    }
    if (drops && this.scanner.droppedTail > 0) this.droppedRun(this.scanner.droppedTail, this.scanner.droppedEnd, out);
    if (result < 0) {
      this.failed = true;
      out.fallback = true;
    }
  }

  /** `copyRows` for the projected scan's records: one string for the rows from the `r`th on, `SEGMENT` bytes of them when there are. */
  private copyRecords(r: number, count: number): void {
    if (!this.ascii) {
      this.segment = null;
      return;
    }
    const records = this.scanner.entries;
    const stride = this.scanner.stride;
    const start = this.rowStart;
    let last = r;
    while (last + 1 < count && records[last * stride + stride - 2] - start < SEGMENT) last++;
    this.segmentStart = start;
    this.segmentEnd = records[last * stride + stride - 2];
    this.segment = this.window.toString('latin1', start, this.segmentEnd);
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
      if (this.segment === null || this.rowStart >= this.segmentEnd) this.copyRows(r);
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

  /**
   * Ends a row a fused `where` drops, unmade: it joins the run of dropped rows just before it
   * (one entry for the run), unless it ends at the window's last byte (a CR whose row may yet
   * be taken back, see scanResultOf's `dropLast`).
   */
  private dropRow(end: number, out: WasmRowsResult): void {
    const start = this.rowStart;
    this.addDropped(1, this.linesOf(start, end), end < this.length, end, out);
    this.lastRowStart = start;
  }

  /** `count` rows the kernel dropped, one line each (none has a quote), the last ending at `end`. */
  private droppedRun(count: number, end: number, out: WasmRowsResult): void {
    this.addDropped(count, count, true, end, out);
    // (Rows were read: a fallback from here on must not start over at the input's start.)
    this.started = true;
  }

  /** Dropped rows of `lines` lines in all, added to the run before them when `join` allows; the next row starts at `end`. */
  private addDropped(count: number, lines: number, join: boolean, end: number, out: WasmRowsResult): void {
    const last = out.rows.length - 1;
    if (join && last >= 0 && out.rows[last] === null) {
      out.widths[last]! += count;
      out.lines[last]! += lines;
    } else {
      out.rows.push(null);
      out.widths.push(count);
      out.lines.push(lines);
      out.raws?.push(null);
      out.edgeSpaces?.push(false);
    }
    this.edgeSpace = false;
    this.index = 0;
    this.rowStart = this.fieldStart = end;
  }

  private endRow(fields: string[], count: number, end: number, out: WasmRowsResult): void {
    const start = this.rowStart;
    const empty = this.emptyRows && count === 1 && isLineBreak(this.window, start, end);
    const row = empty ? (this.columns?.map(() => undefined as unknown as string) ?? []) : fields;
    out.rows.push(row);
    out.widths.push(empty ? 0 : count);
    out.lines.push(this.linesOf(start, end));
    if (out.raws) {
      out.raws.push(empty ? null : this.rawOf(start, end));
      out.edgeSpaces!.push(this.edgeSpace);
      this.edgeSpace = false;
    }
    this.index = 0;
    this.lastRowStart = start;
    this.rowStart = this.fieldStart = end;
  }

  /**
   * When the window is ASCII, makes the rows from the current one (the `r`th row end of this
   * call) on one string of their own, at least `SEGMENT` bytes of them when there are, for
   * their fields to be slices of: a field kept by a later stage then holds its segment, not
   * the whole window (see `slice`). The row cut by the end of this call gets none.
   */
  private copyRows(r: number): void {
    const { entries, rowEnds, rowCount } = this.scanner;
    if (!this.ascii || r >= rowCount) {
      this.segment = null;
      return;
    }
    const start = this.rowStart;
    let last = r;
    while (last + 1 < rowCount && ~entries[rowEnds[last]] - start < SEGMENT) last++;
    this.segmentStart = start;
    this.segmentEnd = ~entries[rowEnds[last]];
    this.segment = this.window.toString('latin1', start, this.segmentEnd);
  }

  /** The field in window[start, end): quotes removed and doubled quotes halved. */
  private field(start: number, end: number): string {
    if (this.window[start] !== this.quote) return this.slice(start, end);
    const inner = this.slice(start + 1, end - 1);
    const quote = String.fromCharCode(this.quote);
    return inner.includes(quote) ? inner.replaceAll(quote + quote, quote) : inner;
  }

  /**
   * window[start, end) as a string: in an ASCII window a slice of the segment that holds it,
   * else a copy. V8 makes a slice of 13 characters and more a view into its parent, so a
   * field kept by a later stage keeps its parent alive: with one string per window (as
   * before), one row in 300 kept held 230 MB for a 220 MB file; with segments of
   * `SEGMENT` bytes it holds at most about that much per kept row.
   */
  private slice(start: number, end: number): string {
    if (!this.ascii) return this.window.toString('utf8', start, end);
    if (this.segment !== null && start >= this.segmentStart && end <= this.segmentEnd) return this.segment.slice(start - this.segmentStart, end - this.segmentStart);
    return this.window.toString('latin1', start, end);
  }

  /** The row's text without its line break when it has no quote and no CR (after `linesOf`), else null. */
  private rawOf(start: number, end: number): string | null {
    if (this.nextQuote < end) return null;
    if (this.nextCr < start) {
      const at = this.window.indexOf(13, start);
      this.nextCr = at === -1 || at >= this.length ? this.length : at;
    }
    if (this.nextCr < end) return null;
    return this.slice(start, end > start && this.window[end - 1] === 10 ? end - 1 : end);
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
    // (Most have none but that one: found by native searches instead of a loop over the row.)
    if (this.nextCr < start) {
      const at = window.indexOf(13, start);
      this.nextCr = at === -1 || at >= this.length ? this.length : at;
    }
    const lf = window.indexOf(10, start);
    const first = lf === -1 || lf >= this.length ? this.nextCr : Math.min(lf, this.nextCr);
    if (first >= end - 1 || (first === end - 2 && window[first] === 13 && window[end - 1] === 10)) return 1;
    let lines = 1;
    for (let i = start; i < end; i++) {
      const c = window[i];
      if (c === 10 || (c === 13 && (i + 1 >= this.length || window[i + 1] !== 10))) lines++;
    }
    const last = window[end - 1];
    return end > start && (last === 10 || last === 13) ? lines - 1 : lines;
  }
}

/** Whether a byte at a field's edge may be (part of) JavaScript whitespace: ASCII up to space, or any byte of a multi-byte character. */
const mayBeSpace = (byte: number): boolean => byte <= 32 || byte >= 0x80;

/** Whether window[start, end) is nothing or one line break (an empty line). */
function isLineBreak(window: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0) return true;
  if (length === 1) return window[start] === 10 || window[start] === 13;
  return length === 2 && window[start] === 13 && window[start + 1] === 10;
}

/** How many bytes at the end of window[start, end) begin a UTF-8 character that is not complete. */
function cutCharacter(window: Buffer, start: number, end: number): number {
  for (let k = 1; k <= 3 && end - k >= start; k++) {
    const byte = window[end - k];
    if ((byte & 0xc0) === 0x80) continue;
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return size > k ? k : 0;
  }
  return 0;
}
