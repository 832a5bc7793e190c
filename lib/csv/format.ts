import type { TransformCallback } from 'node:stream';
import type { FormatterOptionsArgs } from '@fast-csv/format';
import type { RowFormatter } from '@fast-csv/format/build/src/formatter/RowFormatter.js';
import { FastRowFormatter, fastFormatProblem, keysOf } from './formatter.js';
import { RowError } from '../core/errors.js';
import { writesTextRows, type HeaderSource } from '../core/fusion.js';
import { fieldsOf, TextRow } from '../core/text-row.js';
import { safeCell, safeRow } from './spreadsheet-safe.js';
import { originOf } from '../core/origin.js';
import { kindOf } from '../core/rows.js';
import { Stage } from '../core/stage.js';
import { calledAs, checkOneOf, checkOptions, fail, named as nameChecks, optionNames } from '../core/validate.js';

export interface CsvFormatOptions {
  /**
   * The header line. An array: these names, written even when no row arrives, and array
   * rows must have that many fields. `true`: the keys of the first object row. `false`: none.
   * A function: called once, at the first row (or at the end when there is none), for
   * names known only then, e.g. `() => [...source.headers, 'extra']`.
   * @default true for object rows, false for array rows
   */
  headers?: boolean | readonly string[] | (() => readonly string[]);
  /** @default ',' */
  delimiter?: string;
  /** @default '"' */
  quote?: string;
  /** @default '\n' */
  rowDelimiter?: string;
  /** End the last row with `rowDelimiter` too. @default true */
  includeEndRowDelimiter?: boolean;
  /** Quote every field (`true`), or the columns named or indexed here. @default false */
  quoteColumns?: boolean | boolean[] | Record<string, boolean>;
  /** Start the output with a UTF-8 BOM. @default false */
  writeBOM?: boolean;
  /**
   * Guard against formula injection when the file is opened in a spreadsheet: text cells
   * (and header names) starting with `=`, `+`, `-`, `@`, tab or CR, also after leading
   * spaces, get a `'` prefix; numbers such as `-5` are left alone. fast-csv has no such option.
   * @default false
   */
  spreadsheetSafe?: boolean;
  /**
   * `'auto'`: sluice's own formatter, which writes fast-csv's text plus quotes where that
   * would lose data (a lone empty field, whitespace at a value's edge; NUL kept: see
   * docs/csv.md), several times faster, whenever the options allow it (a one-character delimiter and
   * quote that are not RegExp syntax, except `|`; a row delimiter without `-`; `quoteColumns`
   * a boolean or an array); fast-csv's formatter otherwise. `'fast-csv'`: always fast-csv's.
   * @default 'auto'
   */
  formatter?: 'auto' | 'fast-csv';
}

/** fast-csv's formatter options that sluice passes on to it (its formatter then writes). */
type FastCsvOnly = Pick<FormatterOptionsArgs<CsvRow, CsvRow>, 'escape' | 'quoteHeaders' | 'writeHeaders' | 'alwaysWriteHeaders' | 'transform'>;

/** The option names csv.format() accepts, fast-csv's own included (an unknown one is a TypeError); csv.write() adds its own. */
export const CSV_FORMAT_OPTIONS = optionNames<CsvFormatOptions & FastCsvOnly>('csv.format()', {
  headers: true, delimiter: true, quote: true, rowDelimiter: true, includeEndRowDelimiter: true, quoteColumns: true, writeBOM: true, spreadsheetSafe: true, formatter: true,
  escape: true, quoteHeaders: true, writeHeaders: true, alwaysWriteHeaders: true, transform: true,
});

/** A row `csv.format` and `csv.write` accept: an array of cells or an object of named cells. */
export type CsvRow = readonly unknown[] | Record<string, unknown>;

const isNames = (value: unknown): value is readonly string[] => Array.isArray(value) && value.every((h) => typeof h === 'string');

/**
 * Rows in, CSV text out that reads back as the same rows: fast-csv's text plus quotes where
 * it would lose data, by sluice's own formatter where the options allow (see `fastFormatProblem`) and fast-csv's otherwise. The
 * header decision waits for the first row (objects get a header from their keys, arrays
 * none) unless `headers` says otherwise; with `headers` as an array, the header is written
 * even for zero rows.
 *
 * Text goes out in pieces of up to half the readable high-water mark instead of one write
 * per row. A piece is passed on when it is full, or at once while the output buffer is full
 * (both through the transform callback, so backpressure holds), or on the next tick when no
 * more rows arrive at once. So the stage holds at most one piece beyond its output buffer,
 * and a slow trickle of rows still flows.
 */
export class CsvFormatStage extends Stage<CsvRow, string> {
  private formatter: RowFormatter<CsvRow, CsvRow> | FastRowFormatter | null = null;
  private width = -1;
  private text = '';
  private flushScheduled = false;
  /** fast-csv's formatter is needed (the options ask for it): loaded on first use, ~3 MB. */
  private readonly fallback: boolean;
  private readonly safe: boolean;
  /**
   * Safe mode with object rows and a header line from their keys: the first row's keys,
   * by which every row is written as an array, so that the header line (cells too) is
   * made safe like the values. Null otherwise.
   */
  private keys: string[] | null = null;
  private fastCsv: typeof import('./fast-csv-format.js') | null = null;
  private readonly fastCsvLoading: Promise<void> | null = null;

  constructor(private readonly options: CsvFormatOptions = {}, name = 'csv.format()') {
    super(name, undefined, { readableObjectMode: false });
    const o = checkOptions('options', options, CSV_FORMAT_OPTIONS) as CsvFormatOptions;
    const headers = o.headers;
    if (headers !== undefined && typeof headers !== 'boolean' && typeof headers !== 'function' && !isNames(headers)) {
      fail('headers', 'a boolean, an array of column names or a function returning one', headers);
    }
    const formatter = checkOneOf('formatter', o.formatter ?? 'auto', ['auto', 'fast-csv'] as const);
    if (o.spreadsheetSafe !== undefined && typeof o.spreadsheetSafe !== 'boolean') fail('spreadsheetSafe', 'a boolean', o.spreadsheetSafe);
    this.safe = o.spreadsheetSafe === true;
    const { headers: _headers, formatter: _formatter, spreadsheetSafe: _safe, ...rest } = o;
    this.fallback = formatter === 'fast-csv' || fastFormatProblem(rest) !== null;
    if (this.fallback) {
      this.fastCsvLoading = import('./fast-csv-format.js').then((module) => {
        this.fastCsv = module;
      });
      this.fastCsvLoading.catch(() => {}); // reported by the first row or the end
    }
  }

  /** The pipeline's source, when it reads object rows under a header (see `followHeaders`). */
  private headerSource: HeaderSource | null = null;

  /**
   * Internal (lib/core/fusion.ts, called by `run()`/`pipe()`): with no `headers` option and
   * object rows from `source`, a source that read its header but not one data row gives a
   * file of that header alone — a header-only file read and written back stays one.
   */
  followHeaders(source: HeaderSource): void {
    if (source.objectRows) this.headerSource = source;
  }

  /** The source's header, when the output is to be that header alone (see `followHeaders`). */
  private sourceHeader(): readonly string[] | null {
    const source = this.headerSource;
    const option = this.options.headers;
    if (!source || (option !== undefined && option !== true) || source.stats.out !== 0) return null;
    return source.headers;
  }

  /** Internal (lib/core/fusion.ts): it takes TextRows (lib/pipeline/fuse-text-rows.ts); they pay where sluice's formatter writes. */
  [writesTextRows](): boolean {
    return !this.fallback && !this.safe;
  }

  /** Which formatter writes the text, once the first row (or the end) has chosen it. */
  get formatterUsed(): 'sluice' | 'fast-csv' | null {
    return this.formatter === null ? null : this.formatter instanceof FastRowFormatter ? 'sluice' : 'fast-csv';
  }

  override _transform(given: CsvRow, encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.fallback && this.fastCsv === null) {
      this.fastCsvLoading!.then(() => this._transform(given, encoding, callback), callback);
      return;
    }
    const index = ++this.stats.in;
    if (typeof given !== 'object' || given === null) {
      callback(new RowError(this.stage, index, originOf(given), `expected an array or object row, got ${kindOf(given)}`));
      return;
    }
    // A text row (see lib/core/text-row.ts) goes to sluice's formatter as it is, elsewhere as its fields.
    const passed = given instanceof TextRow && this.formatter !== null && !this.fallback && !this.safe ? given : null;
    const array = given instanceof TextRow && passed === null ? fieldsOf(given) : given;
    const row = this.safe ? safeRow(this.keyed(array)) : array;
    try {
      this.formatter ??= this.start(passed !== null || Array.isArray(row));
    } catch (error) {
      callback(error as Error);
      return;
    }
    const length = passed !== null ? passed.width + passed.appended.length : Array.isArray(row) ? row.length : -1;
    if (this.width !== -1 && length !== -1 && length !== this.width) {
      callback(new RowError(this.stage, index, originOf(row), `the row has ${length} fields, the header ${this.width}`));
      return;
    }
    const formatter = this.formatter;
    if (formatter instanceof FastRowFormatter) {
      let text: string;
      try {
        text = formatter.format(row);
      } catch (error) {
        callback(new RowError(this.stage, index, originOf(row), error instanceof Error ? error.message : String(error), error));
        return;
      }
      this.stats.out++;
      this.add(text, callback);
      return;
    }
    formatter.format(row, (error, lines) => {
      if (error) {
        callback(new RowError(this.stage, index, originOf(row), error.message, error));
        return;
      }
      this.stats.out++;
      this.add(lines?.join('') ?? '', callback);
    });
  }

  override _flush(callback: TransformCallback): void {
    if (this.fallback && this.fastCsv === null) {
      this.fastCsvLoading!.then(() => this._flush(callback), callback);
      return;
    }
    // No row and no header names to write: the output is empty, not a lone line break.
    const headers = this.options.headers;
    const fromSource = this.formatter ? null : this.sourceHeader();
    if (!this.formatter && !fromSource && (headers === undefined || typeof headers === 'boolean')) {
      callback();
      return;
    }
    try {
      this.formatter ??= this.start(true, fromSource);
    } catch (error) {
      callback(error as Error);
      return;
    }
    const formatter = this.formatter;
    const finish = (error: Error | null, end: string) => {
      const text = this.text + end;
      this.text = '';
      if (error) callback(error);
      else callback(null, text === '' ? undefined : text);
    };
    if (formatter instanceof FastRowFormatter) {
      let end: string;
      try {
        end = formatter.finish();
      } catch (error) {
        callback(error as Error);
        return;
      }
      finish(null, end);
    } else {
      formatter.finish((error, lines) => finish(error, lines?.join('') ?? ''));
    }
  }

  /** Adds a row's text to the piece being gathered; passes the piece on when it is full. */
  private add(text: string, callback: TransformCallback): void {
    this.text += text;
    if (this.text.length >= this.readableHighWaterMark >> 1 || this.readableLength >= this.readableHighWaterMark) {
      const piece = this.text;
      this.text = '';
      callback(null, piece);
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => {
        this.flushScheduled = false;
        if (this.text === '' || this.destroyed) return;
        const piece = this.text;
        this.text = '';
        this.push(piece);
      });
    }
    callback();
  }

  /**
   * In safe mode, an object row whose keys would become the header line: as an array in
   * the order of the first row's keys (what fast-csv does with object rows once it has
   * header names), so that the names can be written as safe cells.
   */
  private keyed(row: CsvRow): CsvRow {
    const headers = this.options.headers;
    if (Array.isArray(row) || (headers !== undefined && headers !== true)) return row;
    this.keys ??= keysOf(row);
    return this.keys.map((key) => (row as Record<string, unknown>)[key]) as CsvRow;
  }

  private start(arrays: boolean, fromSource: readonly string[] | null = null): RowFormatter<CsvRow, CsvRow> | FastRowFormatter {
    const { headers: option, formatter: _formatter, spreadsheetSafe: _safe, ...rest } = this.options;
    const given = this.keys ?? fromSource ?? option;
    const named = typeof given === 'function' ? given() : given;
    if (typeof given === 'function' && !isNames(named)) nameChecks(calledAs(this.stage), () => fail('headers()', 'an array of column names', named));
    const headers = this.safe && isNames(named) ? (named.map(safeCell) as string[]) : named;
    const args: FormatterOptionsArgs<CsvRow, CsvRow> = { includeEndRowDelimiter: true, ...rest };
    if (isNames(headers)) {
      Object.assign(args, { headers: [...headers], alwaysWriteHeaders: true });
      this.width = headers.length;
    } else {
      args.headers = headers ?? !arrays;
    }
    if (args.writeBOM) this.push('\ufeff');
    if (!this.fallback) {
      return new FastRowFormatter({
        delimiter: rest.delimiter ?? ',',
        quote: rest.quote ?? '"',
        rowDelimiter: rest.rowDelimiter ?? '\n',
        includeEndRowDelimiter: Boolean(args.includeEndRowDelimiter),
        quoteColumns: rest.quoteColumns === undefined ? false : (rest.quoteColumns as boolean | boolean[]),
        headers: Array.isArray(args.headers) ? (args.headers as string[]) : null,
        writeHeaders: Boolean(args.headers),
        alwaysWriteHeaders: Boolean(args.alwaysWriteHeaders),
      });
    }
    return this.fastCsv!.fastCsvRowFormatter(args);
  }
}

/**
 * Formats rows as CSV text (for an HTTP response or any byte sink); see `csv.write` for files.
 * @example
 * await run(rows, csv.format({ headers: ['id', 'name'] }), res);
 */
export function csvFormat(options: CsvFormatOptions = {}): CsvFormatStage {
  return nameChecks('csv.format()', () => new CsvFormatStage(options));
}
