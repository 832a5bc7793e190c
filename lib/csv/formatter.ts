/**
 * sluice's CSV row formatter: what it writes always reads back as the same row — with
 * sluice's reader, with a trimming reader (fast-csv's, `trim`) and with Python's csv.
 * Pure: `format(row)` returns the text for one row, `finish()` the text at the end.
 *
 * The rules (fast-csv's RowFormatter, read off @fast-csv/format 5, plus quoting wherever
 * fast-csv's output loses data; the differences are listed in docs/csv.md and checked by
 * test/csv/differential.test.ts outside them, and by the round-trip properties):
 * - a field is `${value ?? ''}`, every character kept (NUL too: fast-csv strips it);
 * - it is quoted when it holds the quote (each quote then doubled), the delimiter, a
 *   character of the row delimiter, CR, LF — or `|`, which fast-csv's character class
 *   `[${delimiter}${rowDelimiter}|\r|\n]` also matches — or when `quoteColumns` says so;
 * - and, where fast-csv writes it bare, when it starts or ends with whitespace (JavaScript's
 *   `\s`, a U+FEFF included: a trimming reader would lose it, and a U+FEFF that starts the
 *   file would be taken for a byte-order mark), and when it is the only field of its row and
 *   empty (`""`: a bare empty line reads back as no row);
 * - rows are joined with the row delimiter written *before* every row but the first, and
 *   `finish()` adds one more when `includeEndRowDelimiter` is set;
 * - headers: given names are written before the first row (or alone at the end when there
 *   is none and `alwaysWriteHeaders` is set); otherwise the first row's keys (objects, in
 *   their file's column order: see `keysOf`), or the first array row itself, which is then
 *   written only as the header; "hash arrays" (`[[name, value], …]`) are rows of values too.
 *
 * An array row that csv.parse read from a plain line (no quotes) and that arrives with those
 * same fields first (e.g. one column appended) is written by copying that line: it is what
 * formatting the fields would give, as long as the line holds nothing this formatter quotes
 * (checked per row) and no column is quoted by `quoteColumns`.
 */

import { CsvOrigin, type RawLine } from './raw-line.js';
import { TextRow } from '../core/text-row.js';
import { originOf } from '../core/origin.js';
import { isJsSpace } from './scanner.js';

/**
 * An object row's keys in its file's column order: the header it was read with (see
 * `CsvOrigin.namesOf`) for the names it still has, then any other keys in their order.
 * Without that origin, `Object.keys` (which puts integer-like keys first).
 */
export function keysOf(row: object): string[] {
  const keys = Object.keys(row);
  const names = CsvOrigin.namesOf(originOf(row));
  if (!names) return keys;
  const known = new Set(names);
  return [...names.filter((name) => Object.hasOwn(row, name)), ...keys.filter((key) => !known.has(key))];
}

/** Whether a field's text starts or ends with whitespace, which a trimming reader would lose. */
function spaceAtEdge(text: string): boolean {
  return text.length > 0 && (isJsSpace(text.charCodeAt(0)) || isJsSpace(text.charCodeAt(text.length - 1)));
}

export interface FastFormatOptions {
  delimiter: string;
  quote: string;
  rowDelimiter: string;
  includeEndRowDelimiter: boolean;
  quoteColumns: boolean | readonly boolean[];
  /** Column names given by the caller, or null to take them from the first row. */
  headers: readonly string[] | null;
  /** Write a header line at all (fast-csv: `!!headers`). */
  writeHeaders: boolean;
  /** Write the header even when no row arrives (needs `headers`). */
  alwaysWriteHeaders: boolean;
}

/** Characters that change meaning inside a RegExp or a character class. */
const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\/-]/;

/**
 * Why the fast formatter cannot stand in for fast-csv with these options, or null when it can.
 * Only these keys, with a single-character delimiter and quote that fast-csv's own regular
 * expressions take literally, and `quoteColumns` a boolean or an array (an object is looked
 * up by header names, which fast-csv takes from the first row even for array rows).
 */
export function fastFormatProblem(options: Record<string, unknown>): string | null {
  const known = new Set(['headers', 'delimiter', 'quote', 'rowDelimiter', 'includeEndRowDelimiter', 'quoteColumns', 'writeBOM']);
  const unknown = Object.keys(options).find((key) => !known.has(key) && options[key] !== undefined);
  if (unknown) return `option ${unknown}`;
  // fast-csv copies an explicit `undefined` over its default.
  const cleared = ['delimiter', 'quote', 'rowDelimiter', 'quoteColumns'].find((key) => key in options && options[key] === undefined);
  if (cleared) return `${cleared}: undefined`;
  const { delimiter = ',', quote = '"', rowDelimiter = '\n', quoteColumns = false } = options;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || (REGEXP_SPECIAL.test(delimiter) && delimiter !== '|')) return 'delimiter';
  if (typeof quote !== 'string' || quote.length !== 1 || REGEXP_SPECIAL.test(quote)) return 'quote';
  if (typeof rowDelimiter !== 'string' || rowDelimiter.includes('-')) return 'rowDelimiter';
  if (typeof quoteColumns !== 'boolean' && !Array.isArray(quoteColumns)) return 'quoteColumns';
  return null;
}

const isHashArray = (row: unknown): row is [unknown, unknown][] => Array.isArray(row) && Array.isArray(row[0]) && row[0].length === 2;

export class FastRowFormatter {
  private readonly delimiter: string;
  private readonly quote: string;
  private readonly doubled: string;
  private readonly rowDelimiter: string;
  /** Matches a field that holds a character that makes it quoted. */
  private readonly special: RegExp;
  private readonly quoteAll: boolean;
  /** No column is ever quoted by `quoteColumns`: whole lines may be checked at once. */
  private readonly quoteNone: boolean;
  /** `special` less the delimiter, for a check of a whole joined line. */
  private readonly lineSpecial: RegExp;
  /** Whether no number's text (digits, `.-+e`, `Infinity`, `NaN`) can hold the delimiter. */
  private readonly numbersSafe: boolean;
  private readonly quoteSome: readonly boolean[] | null;
  private headers: readonly unknown[] | null;
  /** Whether rows may be copied from their raw line (see the top of this file). */
  private readonly copyRaw: boolean;
  /** Characters this formatter would quote for that a raw line may hold. */
  private readonly rawChecks: readonly string[];
  private headerWritten = false;
  private rowCount = 0;

  constructor(private readonly options: FastFormatOptions) {
    this.delimiter = options.delimiter;
    this.quote = options.quote;
    this.doubled = options.quote + options.quote;
    this.rowDelimiter = options.rowDelimiter;
    const escape = (text: string) => text.replace(/[\\\]^[-]/g, '\\$&');
    const triggers = escape(`${options.delimiter}${options.rowDelimiter}|\r\n`);
    this.special = new RegExp(`[${triggers}${escape(options.quote)}]`);
    this.quoteAll = options.quoteColumns === true;
    this.quoteNone = options.quoteColumns === false || (Array.isArray(options.quoteColumns) && !options.quoteColumns.some(Boolean));
    const lineTriggers = [...new Set(`${options.rowDelimiter}|\r\n${options.quote}`)].filter((c) => c !== options.delimiter).join('');
    this.lineSpecial = new RegExp(`[${escape(lineTriggers)}]`);
    this.numbersSafe = !'0123456789.-+eInfinityNa'.includes(options.delimiter);
    this.quoteSome = Array.isArray(options.quoteColumns) ? options.quoteColumns : null;
    this.headers = options.headers;
    const noForcedQuotes = options.quoteColumns === false || (Array.isArray(options.quoteColumns) && !options.quoteColumns.some(Boolean));
    this.copyRaw = noForcedQuotes && (options.headers !== null || !options.writeHeaders);
    // A raw line never holds CR or LF, nor (between fields) a delimiter inside a field.
    this.rawChecks = [...new Set(`${options.quote}${options.rowDelimiter}|`)].filter((c) => c !== options.delimiter && c !== '\r' && c !== '\n');
  }

  /** The text for one row (possibly only a header line, or a header line and the row). */
  format(given: object): string {
    // A text row is copied when it can be; otherwise it is formatted from its fields.
    const passed = given instanceof TextRow && this.copyRaw && this.headers !== null ? given : null;
    const row = given instanceof TextRow && passed === null ? given.fields() : given;
    let text = '';
    let formatRow = true;
    let headers = this.headers;
    if (headers === null) {
      headers = isHashArray(row) ? row.map((pair) => pair[0]) : Array.isArray(row) ? row : keysOf(row);
      this.headers = headers;
      // An array row that is the header itself is written as the header only.
      if (this.options.writeHeaders && Array.isArray(row)) formatRow = !headers.every((name, i) => name === row[i]);
    }
    if (this.options.writeHeaders && !this.headerWritten) {
      text += this.line(headers);
      this.headerWritten = true;
    }
    if (passed !== null) {
      text += this.fitsText(passed) ? this.copied(passed.text, passed.width, passed.appended, 0) : this.line(this.columns(passed.fields(), headers));
    } else if (formatRow) {
      const raw = this.copyRaw && Array.isArray(row) ? CsvOrigin.rawOf(originOf(row)) : undefined;
      text += raw !== undefined && this.fits(raw, row as unknown[]) ? this.copied(raw.text, raw.fields.length, row as unknown[], raw.fields.length) : this.line(this.columns(row, headers));
    }
    return text;
  }

  /** Whether `row` starts with exactly the fields of `raw`, and its text needs no quoting here. */
  private fits(raw: RawLine, row: readonly unknown[]): boolean {
    const fields = raw.fields;
    if (raw.delimiter !== this.delimiter || row.length < fields.length) return false;
    if (raw.edgeSpace === false) {
      for (let i = 0; i < fields.length; i++) if (row[i] !== fields[i]) return false;
    } else {
      for (let i = 0; i < fields.length; i++) if (row[i] !== fields[i] || spaceAtEdge(fields[i])) return false;
    }
    for (const c of this.rawChecks) if (c !== raw.quote && raw.text.includes(c)) return false;
    return true;
  }

  /** Whether a text row's text needs no quoting here (it holds no quote and no CR; a field with whitespace at an edge is formatted). */
  private fitsText(row: TextRow): boolean {
    if (row.delimiter !== this.delimiter || row.edgeSpace) return false;
    for (const c of this.rawChecks) if (row.text.includes(c)) return false;
    return true;
  }

  /** A row's text (its first `width` fields), then the fields `after[from…]` formatted as the ones after them. */
  private copied(raw: string, width: number, after: readonly unknown[], from: number): string {
    let text = this.rowCount === 0 ? raw : this.rowDelimiter + raw;
    this.rowCount++;
    for (let i = from; i < after.length; i++) text += this.delimiter + this.field(after[i], width + i - from);
    return text;
  }

  /** The text after the last row. */
  finish(): string {
    let text = '';
    if (this.options.alwaysWriteHeaders && this.rowCount === 0) {
      if (!this.headers) throw new Error('`alwaysWriteHeaders` option is set to true but `headers` option not provided.');
      text += this.line(this.headers);
    }
    if (this.options.includeEndRowDelimiter) text += this.rowDelimiter;
    return text;
  }

  private columns(row: object, headers: readonly unknown[]): readonly unknown[] {
    if (!Array.isArray(row)) return headers.map((name) => (row as Record<string, unknown>)[name as string]);
    if (isHashArray(row)) return headers.map((_, i) => (row[i] ? row[i][1] : ''));
    if (!this.options.writeHeaders) return row;
    return headers.map((_, i) => row[i]);
  }

  /** One formatted line, after the row delimiter unless it is the first. */
  private line(fields: readonly unknown[]): string {
    let text = this.rowCount === 0 ? '' : this.rowDelimiter;
    this.rowCount++;
    if (this.quoteNone) {
      // Most lines need no quoting at all: join them natively and check them once.
      const joined = this.plainLine(fields);
      if (joined !== null) return text + joined;
    }
    const last = fields.length - 1;
    // A lone empty field: `""`, or the line would read back as no row.
    if (last === 0 && !this.quoteAll && `${fields[0] ?? ''}` === '') return text + this.doubled;
    for (let i = 0; i <= last; i++) {
      text += this.field(fields[i], i);
      if (i !== last) text += this.delimiter;
    }
    return text;
  }

  /**
   * The fields joined by the delimiter when no field needs quoting, else null. `join`
   * writes null and undefined as '' and anything else as `${value}`, like fast-csv.
   */
  private plainLine(fields: readonly unknown[]): string | null {
    const joined = fields.join(this.delimiter);
    if (this.lineSpecial.test(joined) || (fields.length === 1 && joined === '')) return null;
    // The line holds no quote, CR, LF or |; a field must not hold the delimiter, nor
    // whitespace at its edges, either.
    for (let i = 0; i < fields.length; i++) {
      const value = fields[i];
      if (typeof value === 'string') {
        if (value.includes(this.delimiter) || spaceAtEdge(value)) return null;
      } else if (typeof value === 'number') {
        if (!this.numbersSafe) return null;
      } else if (value !== null && value !== undefined) {
        return null;
      }
    }
    return joined;
  }

  private field(value: unknown, index: number): string {
    const text = typeof value === 'string' ? value : `${value ?? ''}`;
    const forced = this.quoteAll || (this.quoteSome !== null && Boolean(this.quoteSome[index]));
    if (!this.special.test(text)) return forced || spaceAtEdge(text) ? this.quote + text + this.quote : text;
    if (text.includes(this.quote)) return this.quote + text.replaceAll(this.quote, this.doubled) + this.quote;
    return this.quote + text + this.quote;
  }
}
