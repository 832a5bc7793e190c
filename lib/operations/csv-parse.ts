import { StringDecoder } from 'node:string_decoder';
import type { TransformCallback } from 'node:stream';
import { ParserOptions } from '@fast-csv/parse';
import { Parser } from '@fast-csv/parse/build/src/parser/Parser.js';
import { CsvError, RowError } from '../internal/errors.js';
import { linesSpanned } from '../internal/csv-lines.js';
import { setOrigin } from '../internal/origin.js';
import { sendReject } from '../internal/reject.js';
import { setField } from '../internal/rows.js';
import { Stage } from '../internal/stage.js';
import { checkHighWaterMark, checkInteger, checkOneOf, checkOptions, fail } from '../internal/validate.js';

export interface CsvParseOptions {
  /**
   * Row shape: `'arrays'` of strings, or `'objects'` keyed by the header names.
   * @default 'arrays'
   */
  rows?: 'arrays' | 'objects';
  /**
   * `true`: the first line holds the column names and is not a row; `false`: there is no
   * header line; an array: these names, and the file has no header line.
   * @default true
   */
  header?: boolean | readonly string[];
  /**
   * A row whose field count differs from the header's (or the first row's): `'fail'` the
   * pipeline with the line number, `'reject'` the row into the reject channel, or `'keep'`
   * it as it is (array rows only).
   * @default 'fail'
   */
  ragged?: 'fail' | 'reject' | 'keep';
  /** @default ',' */
  delimiter?: string;
  /** @default '"' */
  quote?: string;
  /** @default the quote character */
  escape?: string;
  /** Trim spaces around every field. @default false */
  trim?: boolean;
  /** Skip lines that are empty or hold only spaces. @default true */
  ignoreEmpty?: boolean;
  /**
   * The longest row, in characters, before the input fails: an unterminated quote must not
   * buffer the rest of a huge file.
   * @default 1_048_576
   */
  maxRowBytes?: number;
  /** @default 10_000 */
  maxColumns?: number;
  /** @default 'utf8' */
  encoding?: BufferEncoding;
  /** Names the input in errors, rejects and row origins. @default 'csv' */
  source?: string;
  /** Object-mode high-water mark of the rows side. @default 16 */
  highWaterMark?: number;
}

interface Resolved {
  objects: boolean;
  names: readonly string[] | null;
  headerLine: boolean;
  ragged: 'fail' | 'reject' | 'keep';
  ignoreEmpty: boolean;
  maxRowBytes: number;
  maxColumns: number;
  encoding: BufferEncoding;
  source: string;
  parser: ParserOptions;
  highWaterMark?: number;
}

function resolve(options: CsvParseOptions): Resolved {
  const o = checkOptions('options', options) as CsvParseOptions;
  const rows = checkOneOf('rows', o.rows ?? 'arrays', ['arrays', 'objects'] as const);
  const header = o.header ?? true;
  if (typeof header !== 'boolean' && !(Array.isArray(header) && header.every((h) => typeof h === 'string'))) {
    fail('header', 'a boolean or an array of column names', header);
  }
  if (rows === 'objects' && header === false) fail('header', 'true or an array of names when rows are objects', header);
  const ragged = checkOneOf('ragged', o.ragged ?? 'fail', ['fail', 'reject', 'keep'] as const);
  if (ragged === 'keep' && rows === 'objects') fail('ragged', "'fail' or 'reject' when rows are objects", ragged);
  for (const key of ['delimiter', 'quote', 'escape'] as const) {
    const value = o[key];
    if (value !== undefined && (typeof value !== 'string' || value.length !== 1)) fail(key, 'a single character', value);
  }
  const names = Array.isArray(header) ? [...header] : null;
  if (names) checkNames(names, o.source ?? 'csv', 0);
  return {
    objects: rows === 'objects',
    names,
    headerLine: header === true,
    ragged,
    ignoreEmpty: o.ignoreEmpty ?? true,
    maxRowBytes: o.maxRowBytes === undefined ? 1_048_576 : checkInteger('maxRowBytes', o.maxRowBytes, 1),
    maxColumns: o.maxColumns === undefined ? 10_000 : checkInteger('maxColumns', o.maxColumns, 1),
    encoding: o.encoding ?? 'utf8',
    source: o.source ?? 'csv',
    // ParserOptions copies keys as given: an `undefined` would override its default.
    parser: new ParserOptions(Object.fromEntries(Object.entries({ delimiter: o.delimiter, quote: o.quote, escape: o.escape, trim: o.trim }).filter(([, v]) => v !== undefined))),
    highWaterMark: checkHighWaterMark('highWaterMark', o.highWaterMark),
  };
}

/** Duplicate names would silently merge columns of object rows; empty ones name nothing. */
function checkNames(names: readonly string[], source: string, line: number): void {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === '') throw new CsvError(source, line, `the header's column ${i} has no name`);
    const first = seen.get(name);
    if (first !== undefined) throw new CsvError(source, line, `the header names column ${first} and column ${i} both "${name}"`);
    seen.set(name, i);
  });
}

/**
 * Bytes (or text) in, rows out: a thin Transform over fast-csv's parser. Keeps each row's
 * 1-based source line (see `originOf`), checks the field count, and bounds the text it
 * holds for an unfinished row by `maxRowBytes`.
 */
export class CsvParseStage<Row = string[]> extends Stage<Buffer | string, Row> {
  /** Column names, once the header has been read (or as given). */
  headers: readonly string[] | null;
  /** Bytes consumed so far (for progress). */
  bytesIn = 0;
  private readonly options: Resolved;
  private readonly parser: Parser;
  private readonly decoder: StringDecoder;
  private rest = '';
  private nextLine = 1;
  private width = -1;

  constructor(options: CsvParseOptions = {}) {
    const resolved = resolve(options);
    super(`csv.parse(${resolved.source})`, undefined, {
      writableObjectMode: false,
      ...(resolved.highWaterMark === undefined ? {} : { readableHighWaterMark: resolved.highWaterMark }),
    });
    this.options = resolved;
    this.headers = resolved.names;
    if (resolved.names) this.width = resolved.names.length;
    this.parser = new Parser(resolved.parser);
    this.decoder = new StringDecoder(resolved.encoding);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesIn += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    const text = this.rest + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    this.parse(text, true, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.parse(this.rest + this.decoder.end(), false, callback);
  }

  private parse(text: string, more: boolean, callback: TransformCallback): void {
    if (text === '') {
      callback();
      return;
    }
    let result: { line: string; rows: string[][] };
    try {
      result = this.parser.parse(text, more);
    } catch (error) {
      // Deliver the rows before the bad one, then fail on the line where it starts.
      const good = this.longestParsablePrefix(text);
      this.rest = '';
      const failure = this.emitRows(good) ?? this.syntaxError(error);
      callback(failure);
      return;
    }
    this.rest = result.line;
    const failure = this.emitRows(result.rows);
    if (failure) {
      callback(failure);
      return;
    }
    if (this.rest.length > this.options.maxRowBytes / 4 && Buffer.byteLength(this.rest) > this.options.maxRowBytes) {
      callback(new CsvError(this.options.source, this.nextLine, `a row longer than maxRowBytes (${this.options.maxRowBytes}) starts here; is a quote left open?`));
      return;
    }
    callback();
  }

  private syntaxError(error: unknown): CsvError {
    const message = error instanceof Error ? error.message : String(error);
    // fast-csv's message quotes the raw input; keep it only as the cause.
    const reason = message.includes('missing closing') ? 'a quoted field is not closed' : 'malformed CSV (text after a closing quote?)';
    return new CsvError(this.options.source, this.nextLine, reason, error);
  }

  /** The complete rows before a syntax error: bisects for the longest prefix that parses. */
  private longestParsablePrefix(text: string): string[][] {
    const parses = (length: number) => {
      try {
        return new Parser(this.options.parser).parse(text.slice(0, length), true).rows;
      } catch {
        return null;
      }
    };
    let low = 0;
    let high = text.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (parses(mid)) low = mid;
      else high = mid - 1;
    }
    return parses(low) ?? [];
  }

  /** Returns an error to fail with, or pushes every row. Rejected rows wait for the sink. */
  private emitRows(rows: string[][]): Error | undefined {
    for (const fields of rows) {
      const line = this.nextLine;
      this.nextLine += linesSpanned(fields);
      if (fields.length === 0 && this.options.ignoreEmpty) continue;
      if (fields.length > this.options.maxColumns) {
        return new CsvError(this.options.source, line, `${fields.length} fields, more than maxColumns (${this.options.maxColumns})`);
      }
      if (this.width === -1) {
        this.width = fields.length;
        if (this.options.headerLine) {
          if (this.options.objects) {
            try {
              checkNames(fields, this.options.source, line);
            } catch (error) {
              return error as Error;
            }
          }
          this.headers = fields;
          this.emit('headers', fields);
          continue;
        }
      }
      const index = ++this.stats.in;
      if (fields.length !== this.width && this.options.ragged !== 'keep') {
        const reason = `expected ${this.width} fields, got ${fields.length}`;
        const origin = { source: this.options.source, line };
        const error = new CsvError(this.options.source, line, reason);
        if (this.options.ragged === 'fail') return error;
        this.stats.rejected++;
        // A sink that stores the reject later (backpressure) cannot hold this chunk's rows
        // back; a failure it reports later destroys the stage.
        let failure: Error | undefined;
        let sync = true;
        sendReject(this, { stage: this.stage, reason, error: new RowError(this.stage, index, origin, reason, error), row: fields, index, origin }, (err) => {
          if (!err) return;
          if (sync) failure = err;
          else this.destroy(err);
        });
        sync = false;
        if (failure) return failure;
        continue;
      }
      const row = this.options.objects ? this.toObject(fields) : fields;
      setOrigin(row, { source: this.options.source, line });
      this.stats.out++;
      this.push(row);
    }
    return undefined;
  }

  private toObject(fields: readonly string[]): Row {
    const names = this.headers!;
    const row: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) setField(row, names[i], fields[i]);
    return row as Row;
  }
}

/**
 * Parses CSV bytes (or text) into rows with fast-csv: for HTTP bodies, sockets, or any
 * byte stream (see `csv.read` for files).
 * @example
 * await run(req, csv.parse({ rows: 'objects' }), postgres.write(pool, { table: 'imports' }));
 */
export function csvParse<Row = string[]>(options: CsvParseOptions = {}): CsvParseStage<Row> {
  return new CsvParseStage<Row>(options);
}
