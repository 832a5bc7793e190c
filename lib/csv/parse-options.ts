// csv.parse()'s options (csv.read's too): the interface users fill in, and `resolve`, which
// checks them once and gives the stage a readonly, defaulted copy.
import { checkHighWaterMark, checkInteger, checkOneOf, checkOptions, fail, invalid, optionNames } from '../core/validate.js';
import { fastDialectProblem } from './scanner.js';

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
  /**
   * Lenient reading of hand-edited files (`"a", "b"`): drop whitespace (JavaScript's `\s`)
   * before and after every field, also around the quotes of a quoted field; text inside
   * quotes is kept. Without it, whitespace is data and text around a quoted field fails.
   * (`ltrim`/`rtrim` drop only one side.) With `parser: 'fast-csv'`: every field trimmed
   * after parsing, quoted ones too.
   * @default false
   */
  trim?: boolean;
  /** `trim`'s leading half: whitespace before a field (and before its opening quote) is dropped. @default false */
  ltrim?: boolean;
  /** `trim`'s trailing half: whitespace after a field (and after its closing quote) is dropped. @default false */
  rtrim?: boolean;
  /**
   * Skip lines with no character at all (a line of whitespace is a row of one field). With
   * `parser: 'fast-csv'`, also lines of only whitespace, which fast-csv reads as no field.
   * @default true
   */
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
  /**
   * Bytes that are not valid UTF-8: `'replace'` them with U+FFFD (as fast-csv and Node's
   * decoder do), or `'fail'` with a CsvError naming the line and the byte offset (rows
   * before it are delivered). `'fail'` needs `encoding: 'utf8'`.
   * @default 'replace'
   */
  invalidUtf8?: 'replace' | 'fail';
  /** Names the input in errors, rejects and row origins. @default 'csv' */
  source?: string;
  /**
   * Keep only these columns, in this order: indexes for array rows, header names for object
   * rows. Fields of other columns are never made into strings, which makes reading a few
   * columns of a wide file much faster (`run()`/`pipe()` apply a `select` right after the
   * source this way when the result is the same, see lib/pipeline/fuse-projection.ts). Each row
   * is still checked for its full field count (`ragged`); with `ragged: 'keep'`, a row that
   * lacks one of these columns fails with its line.
   * @default every column
   * @example
   * csv.read('parking.csv', { columns: [2, 7, 8] })   // ['NY', 'FORD', 'P'], …
   */
  columns?: readonly number[] | readonly string[];
  /**
   * `'auto'`: sluice's own CSV scanner (RFC 4180, losing nothing: see docs/csv.md) whenever
   * the delimiter, quote and escape allow it (single characters other than CR and LF; quote
   * and escape not whitespace; the delimiter not the quote or escape); fast-csv's parser
   * otherwise. `'fast-csv'`: always fast-csv's parser, with its whitespace quirks (listed in
   * docs/csv.md). The stage's `parser` property tells which one runs.
   * @default 'auto'
   */
  parser?: 'auto' | 'fast-csv';
  /** Object-mode high-water mark of the rows side. @default 16 */
  highWaterMark?: number;
}

/** The option names csv.parse() accepts (an unknown one is a TypeError); csv.read() adds its own. */
export const CSV_PARSE_OPTIONS = optionNames<CsvParseOptions>('csv.parse()', { rows: true, header: true, ragged: true, delimiter: true, quote: true, escape: true, trim: true, ltrim: true, rtrim: true, ignoreEmpty: true, maxRowBytes: true, maxColumns: true, encoding: true, invalidUtf8: true, source: true, columns: true, parser: true, highWaterMark: true });

export interface Resolved {
  objects: boolean;
  /** Wanted columns: indexes (arrays) or names (objects), or null for all. */
  columns: readonly number[] | readonly string[] | null;
  dialect: { delimiter: string; quote: string; escape: string };
  /** Whitespace dropped before / after fields (`trim` sets both). */
  ltrim: boolean;
  rtrim: boolean;
  fast: boolean;
  names: readonly string[] | null;
  headerLine: boolean;
  ragged: 'fail' | 'reject' | 'keep';
  ignoreEmpty: boolean;
  maxRowBytes: number;
  maxColumns: number;
  encoding: BufferEncoding;
  strictUtf8: boolean;
  source: string;
  /** fast-csv's options, for its parser when it is the one used. */
  fastCsv: { delimiter?: string; quote?: string; escape?: string };
  highWaterMark?: number;
}

export function resolve(options: CsvParseOptions): Resolved {
  const o = checkOptions('options', options, CSV_PARSE_OPTIONS) as CsvParseOptions;
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
  if (problem) throw invalid(`Expected \`header\` to be unique, non-empty column names: ${problem}`);
  const columns = resolveColumns(o.columns, rows === 'objects', names);
  const parser = checkOneOf('parser', o.parser ?? 'auto', ['auto', 'fast-csv'] as const);
  const quote = o.quote ?? '"';
  const dialect = { delimiter: o.delimiter ?? ',', quote, escape: o.escape ?? quote };
  return {
    objects: rows === 'objects',
    columns,
    dialect,
    ltrim: flag('trim', o.trim) || flag('ltrim', o.ltrim),
    rtrim: flag('trim', o.trim) || flag('rtrim', o.rtrim),
    fast: parser === 'auto' && fastDialectProblem(dialect) === null,
    names,
    headerLine: header === true,
    ragged,
    ignoreEmpty: o.ignoreEmpty ?? true,
    maxRowBytes: o.maxRowBytes === undefined ? 1_048_576 : checkInteger('maxRowBytes', o.maxRowBytes, 1),
    maxColumns: o.maxColumns === undefined ? 10_000 : checkInteger('maxColumns', o.maxColumns, 1),
    encoding: o.encoding ?? 'utf8',
    strictUtf8: strictUtf8(o),
    source: o.source ?? 'csv',
    // ParserOptions copies keys as given: an `undefined` would override its default.
    fastCsv: Object.fromEntries(Object.entries({ delimiter: o.delimiter, quote: o.quote, escape: o.escape }).filter(([, v]) => v !== undefined)),
    highWaterMark: checkHighWaterMark('highWaterMark', o.highWaterMark),
  };
}

function flag(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(name, 'a boolean', value);
  return value === true;
}

function strictUtf8(o: CsvParseOptions): boolean {
  const mode = checkOneOf('invalidUtf8', o.invalidUtf8 ?? 'replace', ['replace', 'fail'] as const);
  if (mode === 'fail' && !['utf8', 'utf-8', undefined].includes(o.encoding)) fail('encoding', "'utf8' when invalidUtf8 is 'fail'", o.encoding);
  return mode === 'fail';
}

/** Checks `columns` like `select` does: indexes for array rows, names for object rows. */
function resolveColumns(value: unknown, objects: boolean, names: readonly string[] | null): readonly number[] | readonly string[] | null {
  if (value === undefined) return null;
  const ok = Array.isArray(value) && value.length > 0 && value.every((c) =>
    objects ? typeof c === 'string' && c !== '' : typeof c === 'number' && Number.isInteger(c) && c >= 0);
  if (!ok) fail('columns', objects ? 'a non-empty array of column names (rows are objects)' : 'a non-empty array of column indexes (integers from 0)', value);
  const columns = [...(value as (number | string)[])];
  if (names) {
    const missing = objects ? columns.find((c) => !names.includes(c as string)) : columns.find((c) => (c as number) >= names.length);
    if (missing !== undefined) fail('columns', `columns of \`header\` (${names.length} names)`, missing);
  }
  return columns as readonly number[] | readonly string[];
}

/** Duplicate names would silently merge columns of object rows; empty ones name nothing. */
export function nameProblem(names: readonly string[]): string | undefined {
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
