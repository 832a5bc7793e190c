import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { checkUtf8 } from './utf8.js';
import type { TransformCallback } from 'node:stream';
import { RowError } from '../core/errors.js';
import { deliversBeforeFailing, type BatchingStage, type FilteringSource, type FusedSelect, type FusedWhere, type ProjectingSource, type TextRowSource } from '../core/fusion.js';
import { CsvError } from './errors.js';
import { CsvScanner, fieldTrimmer, pickColumns, type ScanOptions, type ScanResult } from './scanner.js';
import { CsvOrigin } from './raw-line.js';
import { scanResultOf, wasmRowsFor, type ScannedRows } from './wasm-parse.js';
import { boundYoungGeneration } from './young-generation.js';
import type { WasmRows, WasmRowsResult } from './wasm-rows.js';
import { afterReadOut } from '../core/after-read-out.js';
import { setOrigin } from '../core/origin.js';
import { TextRow } from '../core/text-row.js';
import { sendReject } from '../core/reject.js';
import { setField } from '../core/rows.js';
import { RowBatch } from '../core/row-batch.js';
import { Stage } from '../core/stage.js';
import { named, refuseRowsPipedIn } from '../core/validate.js';

export { checkParseOptions, type CsvParseOptions };
import { checkParseOptions, nameProblem, resolve, type CsvParseOptions, type Resolved } from './parse-options.js';

/** Whether a row (or the header before it) holds NUL or U+FFFD (bytes that were not UTF-8): a binary file read as CSV. */
const looksBinary = (fields: readonly (string | undefined)[], headers: readonly string[] | null): boolean =>
  [...fields, ...(headers ?? [])].some((field) => field !== undefined && /[\0\uFFFD]/.test(field));

/** Rows up to this size are parsed again with every chunk; longer ones as input doubles. */
const LONG_ROW = 65_536;

/** What the stage needs of a parser: sluice's scanner, or fast-csv's behind an adapter. */
interface RowReader {
  scan(text: string, more: boolean, options?: ScanOptions): ScanResult;
}

/**
 * Bytes (or text) in, rows out: a thin Transform over a pure parser — sluice's scanner when
 * the options allow, fast-csv's otherwise (both give the same rows). Keeps each row's
 * 1-based source line (see `originOf`), checks the field count, and bounds the text it
 * holds for an unfinished row by `maxRowBytes`.
 */
export class CsvParseStage<Row = string[]> extends Stage<Buffer | string, Row> implements ProjectingSource, FilteringSource, BatchingStage, TextRowSource {
  /** Column names, once the header has been read (or as given). */
  headers: readonly string[] | null;
  /** For `run()`/`pipe()` (lib/core/fusion.ts): rows before a bad line reach the consumer before the CsvError. */
  readonly [deliversBeforeFailing] = true;
  /** Bytes consumed so far (for progress). */
  bytesIn = 0;
  /** Which parser reads the input: sluice's scanner, or fast-csv's (see the `parser` option). */
  readonly parser: 'sluice' | 'fast-csv';
  private options: Resolved;
  /** A `select` fused into this source by `run()`/`pipe()` (see lib/pipeline/fuse-projection.ts), or null. */
  fusedSelect: FusedSelect | null = null;
  /** A `where` after this stage (or after its fused select) it was told of (see `fuseWhere`). */
  private fusedWhere: FusedWhere | null = null;
  /** Whether the rows of each parsed chunk go out as one {@link RowBatch} (see `batchRows()`). */
  private batched = false;
  /** The fused select's failure, raised at the end of the chunk that holds its first row. */
  private fusedFailure: Error | undefined;
  /** The parser; fast-csv's is loaded on first use (it costs ~7 MB of memory to load). */
  private reader: RowReader | null;
  private readonly readerLoading: Promise<void> | null = null;
  private readonly decoder: StringDecoder;
  /** Whether the input is UTF-8 (then ASCII chunks take a faster decoder: see `decode`). */
  private readonly utf8: boolean;
  /** Field indexes to keep, once known (names are resolved at the header), or null for all. */
  private indexes: readonly number[] | null = null;
  /** The largest of `widestFor`'s indexes (see `beyondWidth`): a row wider than it has every column. */
  private widest = -1;
  private widestFor: readonly number[] | null = null;
  /** Whether the reader projects rows itself (sluice's scanner, once the header is read). */
  private readerProjects = false;
  /** No text seen yet: a byte-order mark there is dropped. */
  private atStart = true;
  private rest = '';
  /** UTF-8 size of `rest`, the unfinished row, as of the last parse. */
  private restBytes = 0;
  /** Decoded text not yet given to the parser, and its size in bytes. */
  private pending = '';
  private pendingBytes = 0;
  private nextLine = 1;
  private width = -1;
  /** The WebAssembly reader (see wasm-parse.ts) once it reads the input; null: the JS scanner reads the rest; undefined: not decided yet. */
  private wasm: WasmRows | null | undefined;
  /** Rejects handed to a sink that has not stored them yet, and who waits for them. */
  private rejectsPending = 0;
  private afterRejects: (() => void) | null = null;

  /** @param operation How the stage names itself in errors and rejects (`csv.read` for files). */
  constructor(options: CsvParseOptions = {}, operation = 'csv.parse') {
    const resolved = resolve(options);
    super(`${operation}(${resolved.source})`, undefined, {
      writableObjectMode: false,
      ...(resolved.highWaterMark === undefined ? {} : { readableHighWaterMark: resolved.highWaterMark }),
    });
    this.options = resolved;
    refuseRowsPipedIn(this);
    this.headers = resolved.names;
    if (resolved.names) {
      this.width = resolved.names.length;
      this.resolveIndexes(resolved.names);
    } else if (!resolved.headerLine && resolved.columns) {
      this.indexes = resolved.columns as readonly number[];
    }
    this.parser = resolved.fast ? 'sluice' : 'fast-csv';
    this.reader = resolved.fast ? new CsvScanner(resolved.dialect, resolved) : null;
    if (!resolved.fast) {
      this.readerLoading = import('./fast-csv-parse.js').then(({ FastCsvReader }) => {
        this.reader = new FastCsvReader(resolved.fastCsv);
      });
      this.readerLoading.catch(() => {}); // reported by the first write or the end
    }
    this.decoder = new StringDecoder(resolved.encoding);
    this.utf8 = (this.decoder as StringDecoder & { encoding: string }).encoding === 'utf8';
  }

  /** The columns this source keeps (its `columns` option, or a fused `select`'s), or null for all. */
  get columns(): readonly number[] | readonly string[] | null {
    return this.options.columns;
  }

  /** Whether rows are objects (`rows: 'objects'`). */
  get objectRows(): boolean {
    return this.options.objects;
  }

  /** The `ragged` policy. */
  get ragged(): 'fail' | 'reject' | 'keep' {
    return this.options.ragged;
  }

  /** Internal (see `ProjectingSource`): why a `select` may not be fused into this stage now, or null. */
  projectionBlocker(): string | null {
    if (this.parser !== 'sluice') return "source uses fast-csv's parser";
    if (this.columns !== null || this.fusedSelect !== null) return 'source already has columns';
    if (this.bytesIn !== 0 || this.stats.in !== 0 || this.destroyed) return 'source has started';
    if (this.ragged !== 'fail') return "source's ragged is not 'fail'";
    return null;
  }

  /**
   * Internal (see `ProjectingSource`, lib/pipeline/fuse-projection.ts): reads only `select.columns` from now on, as
   * the `columns` option would, but fails as `select` would have: should a column be
   * missing (known at the header, or the first row without one), the source goes back to
   * whole rows and raises the select's own error for the first row it would have passed on.
   */
  fuseSelect(select: FusedSelect): void {
    this.fusedSelect = select;
    this.options = { ...this.options, columns: select.columns };
    if (this.options.names) {
      if (this.resolveIndexes(this.options.names)) this.unfuse();
    } else if (!this.options.headerLine) {
      this.indexes = select.columns as readonly number[];
    }
  }

  /**
   * Internal (lib/pipeline/batch-rows.ts): from now on, pushes the rows of each parsed chunk
   * as one {@link RowBatch}; the output buffer then holds one batch (its high-water mark
   * counts batches, no longer rows). Declined (false) when a `highWaterMark` in rows was given.
   */
  batchRows(): boolean {
    if (this.options.highWaterMark !== undefined) return false;
    this.batched = true;
    (this as unknown as { _readableState: { highWaterMark: number } })._readableState.highWaterMark = 1;
    return true;
  }

  /** Internal (see `FilteringSource`): why a `where` may not be fused into this stage now, or null. */
  whereBlocker(): string | null {
    if (this.parser !== 'sluice') return "source uses fast-csv's parser";
    if (this.fusedWhere !== null) return 'source has a where already';
    if (this.bytesIn !== 0 || this.stats.in !== 0 || this.destroyed) return 'source has started';
    return null;
  }

  /**
   * Internal (see `FilteringSource`, lib/pipeline/fuse-where.ts): while the WebAssembly
   * reader reads (with a projection it reads itself, or whole array rows), rows of the
   * expected width whose bytes fail `where` are dropped before any string is made of them
   * (wasm-rows.ts, field-tests.ts), counted as read and filtered here; `where` still tests
   * the rows passed on.
   */
  fuseWhere(where: FusedWhere): void {
    this.fusedWhere = where;
  }

  /** The fields the TextRows it passes on hold (see `passTextRows`), or null: no TextRows. */
  private textReads: readonly number[] | null = null;

  /** Internal (see `TextRowSource`, lib/pipeline/fuse-text-rows.ts): why it may not pass TextRows now, or null. */
  textRowsBlocker(): string | null {
    const { objects, ltrim, rtrim, columns } = this.options;
    if (this.parser !== 'sluice') return "source uses fast-csv's parser";
    if (objects || ltrim || rtrim || columns !== null) return 'source reads objects, trimmed fields or some columns';
    if (this.fusedWhere !== null || this.fusedSelect !== null) return 'source has a where or a select';
    if (this.bytesIn !== 0 || this.stats.in !== 0 || this.destroyed) return 'source has started';
    return null;
  }

  /**
   * Internal (see `TextRowSource`): while the WebAssembly reader reads, a row of the header's
   * width with no quote and no CR goes on as a TextRow holding only the fields at `reads`.
   */
  passTextRows(reads: readonly number[]): void {
    this.textReads = reads;
  }

  /** The fused select lacks a column: rows stay whole, and the first one fails as select would. */
  private unfuse(): void {
    this.options = { ...this.options, columns: null };
    this.indexes = null;
    this.readerProjects = false;
    this.wasm?.expectWidth(-1); // (its `where` positions were the select's)
  }

  /** Whether the reader is loaded: then `_transform` has copied or decoded its chunk when it returns. */
  protected get readerReady(): boolean {
    return this.reader !== null;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.reader === null) {
      this.readerLoading!.then(() => this._transform(chunk, encoding, callback), callback);
      return;
    }
    boundYoungGeneration();
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    if (typeof chunk === 'string') this.leaveWasm();
    if (this.options.strictUtf8 && typeof chunk !== 'string') {
      const at = this.invalidUtf8At(chunk);
      if (at !== -1) {
        this.failAtInvalidUtf8(chunk.subarray(0, Math.max(0, at - this.bytesIn)), at, callback);
        return;
      }
    }
    this.bytesIn += size;
    if (this.wasm === undefined) this.wasm = this.startWasm();
    if (this.wasm) {
      // (Only the first call carries text: what the JS scanner left after the header.)
      const bytes = this.rest === '' ? (chunk as Buffer) : Buffer.concat([Buffer.from(this.rest), chunk as Buffer]);
      this.rest = '';
      this.restBytes = 0;
      this.emitWasm(this.wasm.push(bytes), true, callback);
      return;
    }
    this.pending += typeof chunk === 'string' ? chunk : this.decode(chunk);
    this.pendingBytes += size;
    // Every parse rescans the unfinished row from its start. While that row is long, parse
    // again only once as much new input has arrived (or the row would pass maxRowBytes), so
    // a long row, or a quote left open, costs linear time instead of quadratic.
    const { maxRowBytes } = this.options;
    if (this.restBytes > LONG_ROW && this.pendingBytes < this.restBytes && this.restBytes + this.pendingBytes <= maxRowBytes) {
      callback();
      return;
    }
    const text = this.rest + this.pending;
    this.pending = '';
    this.pendingBytes = 0;
    this.parse(text, true, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.reader === null) {
      this.readerLoading!.then(() => this._flush(callback), callback);
      return;
    }
    if (this.options.strictUtf8 && this.utf8Tail.length > 0) {
      // The input ended inside a character.
      this.failAtInvalidUtf8(Buffer.alloc(0), this.bytesIn - this.utf8Tail.length, callback);
      return;
    }
    if (this.wasm) {
      this.emitWasm(this.wasm.end(), false, callback);
      return;
    }
    const text = this.rest + this.pending + this.decoder.end();
    this.pending = '';
    this.pendingBytes = 0;
    this.parse(text, false, callback);
  }

  /**
   * `decoder.write(chunk)`. A chunk of ASCII bytes only, with no character of an earlier
   * chunk left unfinished, is the same text in UTF-8 and Latin-1, and Node decodes Latin-1
   * (after the ASCII check) about 3× faster: 0.07 s against 0.26 s for 220 MB in 1 MiB
   * chunks, measured alone; about 40 ms of nj-ford-police's 2.7 s CPU on 1 M rows.
   */
  private decode(chunk: Buffer): string {
    const decoder = this.decoder as StringDecoder & { lastNeed: number };
    if (this.utf8 && decoder.lastNeed === 0 && isAscii(chunk)) return chunk.toString('latin1');
    return decoder.write(chunk);
  }

  /** Bytes of a character cut off at the end of the last chunk (strict UTF-8 mode). */
  private utf8Tail: Buffer = Buffer.alloc(0);

  /** -1 if `chunk` goes on in valid UTF-8, else the input offset of the first bad byte. */
  private invalidUtf8At(chunk: Buffer): number {
    const tail = this.utf8Tail;
    const bytes = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    const { invalid, incomplete } = checkUtf8(bytes);
    if (invalid !== -1) return this.bytesIn - tail.length + invalid;
    this.utf8Tail = Buffer.from(bytes.subarray(incomplete));
    return -1;
  }

  /**
   * The WebAssembly reader, once the JS scanner has read the header line (and with its text
   * fully decoded), when it can read this input; undefined while it is too early to tell.
   */
  private startWasm(): WasmRows | null | undefined {
    const decoder = this.decoder as StringDecoder & { lastNeed: number };
    if ((this.options.headerLine && this.width === -1) || decoder.lastNeed !== 0 || this.pending !== '') return undefined;
    const wasm = wasmRowsFor(this.options, this.utf8, this.indexes, this.atStart, this.fusedWhere, this.headers, this.textReads);
    if (wasm) this.atStart = false;
    if (wasm && this.width !== -1) wasm.expectWidth(this.width);
    this.readerProjects = this.indexes !== null;
    return wasm;
  }

  /** The JS scanner reads the rest of the input, from the row the WebAssembly reader has not finished. */
  private leaveWasm(): void {
    if (this.wasm) {
      this.rest = this.decoder.write(this.wasm.rest());
      this.restBytes = Buffer.byteLength(this.rest);
    }
    this.wasm = null;
  }

  /** Emits the WebAssembly reader's rows; on a fallback the JS scanner goes on from the row it did not read. */
  private emitWasm(result: WasmRowsResult, more: boolean, callback: TransformCallback): void {
    const wasm = this.wasm!;
    const tooLong = more && !result.fallback && wasm.jsPendingBytes > this.options.maxRowBytes;
    // The JS scanner fails with a row ended by the last byte, a CR, still unread: so does this.
    const failure = this.emitRows(scanResultOf(result, tooLong && wasm.endsAtCr));
    if (failure) {
      this.wasm = null;
      this.failAfterRows(callback, failure);
      return;
    }
    if (result.fallback) {
      this.leaveWasm();
      const text = more ? this.rest : this.rest + this.decoder.end();
      this.rest = '';
      this.parse(text, more, callback);
      return;
    }
    if (tooLong) {
      this.wasm = null;
      this.failAfterRows(callback, this.rowTooLong());
      return;
    }
    this.afterRejectsStored(callback);
  }

  /** Parses the valid bytes before an invalid sequence, then fails at its line and offset. */
  private failAtInvalidUtf8(valid: Buffer, offset: number, callback: TransformCallback): void {
    this.leaveWasm();
    this.bytesIn += valid.length;
    const text = this.rest + this.pending + this.decoder.write(valid);
    this.pending = '';
    this.pendingBytes = 0;
    this.parse(text, true, (error) => {
      this.failAfterRows(callback, error ?? new CsvError(this.options.source, this.nextLine, `invalid UTF-8 at byte offset ${offset}`));
    });
  }

  private parse(input: string, more: boolean, callback: TransformCallback): void {
    let text = input;
    if (this.atStart && text !== '') {
      this.atStart = false;
      // The input's byte-order mark (U+FEFF) only: one later in the file is data.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text === '') {
      callback();
      return;
    }
    let result: ScanResult;
    let failure: Error | undefined;
    const reader = this.reader!;
    const scanner = reader instanceof CsvScanner;
    for (;;) {
      // sluice's scanner projects rows itself, but the header line must come whole: while it
      // is not read, rows are scanned one at a time.
      const headerPending = this.options.headerLine && this.width === -1;
      const oneRow = headerPending && scanner && this.options.columns !== null;
      this.readerProjects = scanner && this.indexes !== null && !headerPending;
      result = reader.scan(text, more, {
        columns: this.readerProjects ? this.indexes : null,
        countWidth: this.options.ragged !== 'keep',
        limit: oneRow ? 1 : Infinity,
        // Raw lines let csv.format copy rows that reach it unchanged; trimmed or object
        // rows are never written back verbatim.
        raw: !this.options.ltrim && !this.options.rtrim && !this.options.objects,
      });
      failure = this.emitRows(result);
      if (failure || result.error || !oneRow || result.rows.length === 0) break;
      text = result.rest; // a row was read alone: go on with the rest
    }
    if (failure) {
      this.rest = '';
      this.failAfterRows(callback, failure);
      return;
    }
    if (result.error) {
      this.rest = '';
      this.failAfterRows(callback, this.syntaxError(result));
      return;
    }
    this.rest = result.rest;
    this.restBytes = Buffer.byteLength(this.rest);
    if (this.restBytes > this.options.maxRowBytes) {
      this.failAfterRows(callback, this.rowTooLong());
      return;
    }
    this.afterRejectsStored(callback);
  }

  /** Rejected rows a slow sink has not stored yet hold the next chunk back (backpressure). */
  private afterRejectsStored(callback: TransformCallback): void {
    if (this.rejectsPending === 0) callback();
    else this.afterRejects = () => callback();
  }

  private rowTooLong(): CsvError {
    return new CsvError(this.options.source, this.nextLine, `a row longer than maxRowBytes (${this.options.maxRowBytes}) starts here; is a quote left open?`);
  }

  /**
   * The CsvError for the row `result.rest` starts with. The reason names no input; fast-csv's
   * own error comes as a redacted cause (and without a position: fast-csv gives none).
   */
  private syntaxError(result: ScanResult): CsvError {
    const { source } = this.options;
    if (result.errorAt === undefined) {
      const reason = result.error === 'unclosed-quote' ? 'a quoted field is not closed' : 'malformed CSV (text after a closing quote?)';
      return new CsvError(source, this.nextLine, reason, result.cause);
    }
    const before = result.rest.slice(0, result.errorAt);
    const breaks = before.match(/\r\n|\r|\n/g);
    const lineStart = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r')) + 1;
    // Columns count characters (code points), as an editor shows them.
    const column = [...before.slice(lineStart)].length + 1;
    const reason = result.error === 'unclosed-quote' ? 'a quoted field is not closed' : 'text after a closing quote (quote the whole field, double the quotes in it, or read with `trim`)';
    return new CsvError(source, this.nextLine + (breaks?.length ?? 0), reason, undefined, column);
  }

  /**
   * Fails once the rows this parse pushed have been read: the input is held back meanwhile
   * (the callback waits), and failing at once would drop them with the stage's buffer.
   */
  private failAfterRows(callback: TransformCallback, error: Error): void {
    afterReadOut(this, () => callback(error));
  }

  /** Field indexes for `columns` given the header's names; a CsvError when one is missing. */
  private resolveIndexes(names: readonly string[], line?: number): CsvError | undefined {
    const { columns, objects } = this.options;
    if (!columns) return undefined;
    if (objects) {
      const indexes = (columns as readonly string[]).map((name) => names.indexOf(name));
      const missing = indexes.indexOf(-1);
      if (missing !== -1) return new CsvError(this.options.source, line ?? 0, `the header has no column "${columns[missing]}"`);
      this.indexes = indexes;
    } else {
      const beyond = (columns as readonly number[]).find((column) => column >= names.length);
      if (beyond !== undefined) return new CsvError(this.options.source, line ?? 0, `the header has ${names.length} columns, no column ${beyond}`);
      this.indexes = columns as readonly number[];
    }
    return undefined;
  }

  /** Returns an error to fail with, or pushes every row. Rejected rows wait for the sink. */
  private emitRows(result: ScannedRows): Error | undefined {
    const failure = this.emitScanned(result);
    // A fused select failed before: its error comes first, as it would from the select stage.
    return this.fusedFailure ?? failure;
  }

  private emitScanned(result: ScannedRows): Error | undefined {
    if (!this.batched) return this.emitEach(result, (row) => this.push(row));
    const batch: Row[] = [];
    try {
      return this.emitEach(result, (row) => batch.push(row));
    } finally {
      // Rows before a failing one are passed on, as they would be one at a time.
      if (batch.length > 0) this.push(new RowBatch(batch));
    }
  }

  private emitEach(result: ScannedRows, emit: (row: Row) => void): Error | undefined {
    const { rows, lines, widths } = result;
    const raws = result.raws ?? null;
    const edgeSpaces = result.edgeSpaces ?? null;
    const { delimiter, quote } = this.options.dialect;
    const { ignoreEmpty, maxColumns, source, ragged, objects } = this.options;
    const ownParser = this.parser === 'sluice';
    const trim = ownParser ? null : fieldTrimmer(this.options);
    for (let r = 0; r < rows.length; r++) {
      const line = this.nextLine;
      this.nextLine += lines[r];
      const scanned = rows[r];
      if (scanned === null) {
        // Rows dropped by the reader for a fused `where` (rows of the expected width): `widths` counts them.
        this.stats.in += widths![r]!;
        this.stats.filtered += widths![r]!;
        continue;
      }
      if (scanned instanceof TextRow) {
        // (Made only at the header's width: see WasmRowsOptions.textReads.)
        this.stats.in++;
        setOrigin(scanned, new CsvOrigin(source, line));
        this.stats.out++;
        emit(scanned as Row);
        continue;
      }
      let fields = scanned;
      const width = widths === null ? fields.length : widths[r];
      if (width === 0 && ignoreEmpty) continue;
      // A header line of only whitespace (or, with ignoreEmpty false, of nothing) names no
      // column: the next line must not silently become the header (fast-csv's parser skips a
      // whitespace line, as it always did).
      if (ownParser && this.width === -1 && this.options.headerLine && (width === 0 || (width === 1 && fields[0] !== '' && fields[0]?.trim() === ''))) {
        return new CsvError(source, line, `the header line is ${width === 0 ? 'empty' : 'only whitespace'}; it must name the columns`);
      }
      if (width > maxColumns) {
        return new CsvError(source, line, `${width} fields, more than maxColumns (${maxColumns})`);
      }
      // fast-csv's fields are trimmed here, after the lines are counted (fast-csv's own trim
      // made a line break trimmed off the edge of a quoted field vanish from the line count).
      if (trim) fields = fields.map((field) => (field === undefined ? field : trim(field)));
      if (this.width === -1) {
        this.width = width;
        this.wasm?.expectWidth(width);
        if (this.options.headerLine) {
          const problem = objects ? nameProblem(fields) : undefined;
          if (problem) return new CsvError(source, line, problem);
          this.headers = fields;
          const missing = this.resolveIndexes(fields, line);
          if (missing && this.fusedSelect) this.unfuse();
          else if (missing) return missing;
          this.emit('headers', fields);
          continue;
        }
      }
      const index = ++this.stats.in;
      if (width !== this.width && ragged !== 'keep') {
        const reason = `expected ${this.width} fields, got ${width}${looksBinary(fields, this.headers) ? '; the input looks binary (NUL bytes or invalid UTF-8), not CSV text' : ''}`;
        if (this.indexes && !this.readerProjects) fields = pickColumns(fields, this.indexes);
        const failure = this.reject(fields, index, line, reason);
        if (failure) return failure;
        continue;
      }
      if (this.indexes) {
        const beyond = this.beyondWidth(width);
        if (beyond !== undefined && this.fusedSelect) {
          // Fields of this chunk may be projected already: the select sees a row of this width.
          this.unfuse();
          const projected = fields;
          fields = projected.length === width ? projected : Array.from({ length: width }, (_, i) => projected[i] ?? '');
        } else {
          if (beyond !== undefined) return new CsvError(source, line, `the row has ${width} fields, no column ${beyond}`);
          if (!this.readerProjects) fields = pickColumns(fields, this.indexes);
        }
      }
      const row = objects ? this.toObject(fields) : fields;
      const raw = raws === null ? null : raws[r];
      const names = objects ? ((this.options.columns as readonly string[] | null) ?? this.headers!) : undefined;
      const rawLine = raw === null ? undefined : { text: raw, fields: fields.slice(), delimiter, quote, edgeSpace: edgeSpaces === null ? undefined : edgeSpaces[r] };
      setOrigin(row, new CsvOrigin(source, line, rawLine, names));
      if (this.fusedSelect && this.options.columns === null) {
        // Unfused: the select stage would fail on its first row. The rest of the chunk is
        // still read (a ragged row there fails too) as the source would while that error
        // travels; the select's error wins, as it reaches the pipeline first.
        this.fusedFailure ??= this.fusedSelect.failureFor(row, 1);
        if (this.fusedFailure) continue;
      }
      this.stats.out++;
      emit(row as Row);
    }
    return undefined;
  }

  /** The first wanted column a row of `width` fields lacks, if any (and `widest` for these indexes). */
  private beyondWidth(width: number): number | undefined {
    const indexes = this.indexes!;
    if (this.widestFor !== indexes) {
      this.widestFor = indexes;
      this.widest = Math.max(-1, ...indexes);
    }
    return width > this.widest ? undefined : indexes.find((column) => column >= width);
  }

  /** Fails (`ragged: 'fail'`) or rejects a row of the wrong width; returns an error to fail with. */
  private reject(fields: string[], index: number, line: number, reason: string): Error | undefined {
    const origin = { source: this.options.source, line };
    const error = new CsvError(this.options.source, line, reason);
    if (this.options.ragged === 'fail') return error;
    this.stats.rejected++;
    // A sink that stores the reject later holds the next chunk back, not this chunk's
    // rows; a failure it reports later destroys the stage.
    let failure: Error | undefined;
    let sync = true;
    this.rejectsPending++;
    sendReject(this, { stage: this.stage, reason, error: new RowError(this.stage, index, origin, reason, error), row: fields, index, origin }, (err) => {
      this.rejectsPending--;
      if (err) {
        if (sync) failure = err;
        else this.destroy(err);
      } else if (this.rejectsPending === 0 && this.afterRejects) {
        const resume = this.afterRejects;
        this.afterRejects = null;
        resume();
      }
    });
    sync = false;
    return failure;
  }

  private toObject(fields: readonly string[]): Row {
    const { columns } = this.options;
    const names = columns ? (columns as readonly string[]) : this.headers!;
    const row: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) setField(row, names[i], fields[i]);
    return row as Row;
  }
}

/**
 * Parses CSV bytes (or text) into rows (RFC 4180, nothing lost: see docs/csv.md): for HTTP bodies, sockets, or any
 * byte stream (see `csv.read` for files).
 * @example
 * await run(req, csv.parse({ rows: 'objects' }), postgres.write(pool, { table: 'imports' }));
 */
export function csvParse<Row = Record<string, string>>(options: CsvParseOptions & { rows: 'objects' }): CsvParseStage<Row>;
export function csvParse<Row = string[]>(options?: CsvParseOptions): CsvParseStage<Row>;
export function csvParse<Row = string[]>(options: CsvParseOptions = {}): CsvParseStage<Row> {
  return named('csv.parse()', () => new CsvParseStage<Row>(options));
}
