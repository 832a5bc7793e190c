import type { TransformCallback } from 'node:stream';
import { FormatterOptions, type FormatterOptionsArgs } from '@fast-csv/format';
import { RowFormatter } from '@fast-csv/format/build/src/formatter/RowFormatter.js';
import { RowError } from '../internal/errors.js';
import { originOf } from '../internal/origin.js';
import { kindOf } from '../internal/rows.js';
import { Stage } from '../internal/stage.js';
import { checkOptions, fail } from '../internal/validate.js';

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
}

type CsvRow = readonly unknown[] | Record<string, unknown>;

const isNames = (value: unknown): value is readonly string[] => Array.isArray(value) && value.every((h) => typeof h === 'string');

/**
 * Rows in, CSV text out, formatted by fast-csv's row formatter. The header decision waits
 * for the first row (objects get a header from their keys, arrays none) unless `headers`
 * says otherwise; with `headers` as an array, the header is written even for zero rows.
 */
export class CsvFormatStage extends Stage<CsvRow, string> {
  private formatter: RowFormatter<CsvRow, CsvRow> | null = null;
  private width = -1;

  constructor(private readonly options: CsvFormatOptions = {}, name = 'csv.format()') {
    super(name, undefined, { readableObjectMode: false });
    const o = checkOptions('options', options) as CsvFormatOptions;
    const headers = o.headers;
    if (headers !== undefined && typeof headers !== 'boolean' && typeof headers !== 'function' && !isNames(headers)) {
      fail('headers', 'a boolean, an array of column names or a function returning one', headers);
    }
  }

  override _transform(row: CsvRow, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    if (typeof row !== 'object' || row === null) {
      callback(new RowError(this.stage, index, originOf(row), `expected an array or object row, got ${kindOf(row)}`));
      return;
    }
    try {
      this.formatter ??= this.start(Array.isArray(row));
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (this.width !== -1 && Array.isArray(row) && row.length !== this.width) {
      callback(new RowError(this.stage, index, originOf(row), `the row has ${row.length} fields, the header ${this.width}`));
      return;
    }
    this.formatter.format(row, (error, lines) => {
      if (error) {
        callback(new RowError(this.stage, index, originOf(row), error.message, error));
        return;
      }
      this.stats.out++;
      callback(null, lines?.join(''));
    });
  }

  override _flush(callback: TransformCallback): void {
    // No row and no header names to write: the output is empty, not a lone line break.
    const headers = this.options.headers;
    if (!this.formatter && (headers === undefined || typeof headers === 'boolean')) {
      callback();
      return;
    }
    try {
      this.formatter ??= this.start(true);
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.formatter.finish((error, lines) => callback(error, lines?.join('')));
  }

  private start(arrays: boolean): RowFormatter<CsvRow, CsvRow> {
    const { headers: given, ...rest } = this.options;
    const headers = typeof given === 'function' ? given() : given;
    if (typeof given === 'function' && !isNames(headers)) fail('headers()', 'an array of column names', headers);
    const args: FormatterOptionsArgs<CsvRow, CsvRow> = { includeEndRowDelimiter: true, ...rest };
    if (isNames(headers)) {
      Object.assign(args, { headers: [...headers], alwaysWriteHeaders: true });
      this.width = headers.length;
    } else {
      args.headers = headers ?? !arrays;
    }
    if (args.writeBOM) this.push('\ufeff');
    return new RowFormatter(new FormatterOptions(args));
  }
}

/**
 * Formats rows as CSV text (for an HTTP response or any byte sink); see `csv.write` for files.
 * @example
 * await run(rows, csv.format({ headers: ['id', 'name'] }), res);
 */
export function csvFormat(options: CsvFormatOptions = {}): CsvFormatStage {
  return new CsvFormatStage(options);
}
