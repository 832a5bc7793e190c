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
  const problem = names && nameProblem(names);
  // Names given as an option are a caller's mistake (a TypeError), not a line of the input.
  if (problem) throw new TypeError(`Expected \`header\` to be unique, non-empty column names: ${problem}`);
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
function nameProblem(names: readonly string[]): string | undefined {
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === '') return `the header's column ${i} has no name`;
    const first = seen.get(name);
    if (first !== undefined) return `the header names column ${first} and column ${i} both "${name}"`;
    seen.set(name, i);
  }
  return undefined;
}

/** Throws the TypeError `csv.parse(options)` would, without making a stream. */
export function checkParseOptions(options: CsvParseOptions): void {
  resolve(options);
}

/** Rows up to this size are parsed again with every chunk; longer ones as input doubles. */
const LONG_ROW = 65_536;

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
  /** UTF-8 size of `rest`, the unfinished row, as of the last parse. */
  private restBytes = 0;
  /** Decoded text not yet given to the parser, and its size in bytes. */
  private pending = '';
  private pendingBytes = 0;
  private nextLine = 1;
  private width = -1;
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
    this.headers = resolved.names;
    if (resolved.names) this.width = resolved.names.length;
    this.parser = new Parser(resolved.parser);
    this.decoder = new StringDecoder(resolved.encoding);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.length;
    this.bytesIn += size;
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
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
    const text = this.rest + this.pending + this.decoder.end();
    this.pending = '';
    this.pendingBytes = 0;
    this.parse(text, false, callback);
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
      this.restBytes = 0;
      const failure = this.emitRows(good) ?? this.syntaxError(error);
      callback(failure);
      return;
    }
    this.rest = result.line;
    this.restBytes = Buffer.byteLength(this.rest);
    const failure = this.emitRows(result.rows);
    if (failure) {
      callback(failure);
      return;
    }
    if (this.restBytes > this.options.maxRowBytes) {
      callback(new CsvError(this.options.source, this.nextLine, `a row longer than maxRowBytes (${this.options.maxRowBytes}) starts here; is a quote left open?`));
      return;
    }
    // Rejected rows a slow sink has not stored yet hold the next chunk back (backpressure).
    if (this.rejectsPending === 0) callback();
    else this.afterRejects = () => callback();
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
          const problem = this.options.objects ? nameProblem(fields) : undefined;
          if (problem) return new CsvError(this.options.source, line, problem);
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
