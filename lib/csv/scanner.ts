/**
 * sluice's own CSV scanner: RFC 4180, losing nothing. Pure code over decoded text:
 * `scan(text, more)` returns the complete rows of `text` and the unfinished rest, so chunk
 * boundaries are tested without streams. The rules (each a row of the table in docs/csv.md,
 * each a fixture in test/fixtures/csv-conformance, checked against csv-parse and, outside
 * fast-csv's quirks, against fast-csv by test/csv/differential.test.ts):
 * - Rows end at LF, CRLF or a lone CR. With more input to come, a CR at the very end of the
 *   text is held back (it may be the first half of a CRLF).
 * - Every character that is not syntax is data: whitespace is part of a field, a line of only
 *   whitespace is a row of one field, and only a line with no character at all is the empty
 *   row `[]` (which the stage skips under `ignoreEmpty`).
 * - A field that starts with the quote is quoted. Inside, the escape character (by default
 *   the quote itself) followed by the quote or the escape stands for that character; an
 *   escape before anything else is literal. After the closing quote must come the
 *   delimiter, a line break or the end of the input, else the row fails: "text after a
 *   closing quote" (whitespace included — Python would append it to the field, which hides
 *   where the value ended).
 * - A field that does not start with the quote is unquoted and taken verbatim up to the
 *   next delimiter or line break, a quote in it included (as Python's csv reads it; so is
 *   whitespace before a quote: `\t"x"` is the field `\t"x"`).
 * - A quote still open at the end of the input fails: "a quoted field is not closed".
 * - Lenient, on request (`ltrim`/`rtrim`, both with `trim`): whitespace (JavaScript's `\s`,
 *   less the delimiter) before a field, and before its opening quote, is dropped (`ltrim`);
 *   after a field, and after its closing quote, too (`rtrim`). Text inside quotes is kept.
 * - Errors give the offset of the character at fault (`errorAt`), for the line and column.
 * - A byte-order mark is not this scanner's business: the caller strips one at the start of
 *   the input only; any other U+FEFF is data.
 *
 * Speed: most rows have no quote and no CR. For those, the line end comes from `indexOf` and
 * the fields from `indexOf` of the delimiter, so the per-character work happens inside V8's
 * string search instead of a JavaScript loop. `columns` (a projection) stops materialising
 * fields past the last one wanted: fields nobody reads are never made into strings.
 */

/** The characters that structure the text; each one UTF-16 unit (see `fastDialectProblem`). */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  escape: string;
}

export type ScanErrorKind = 'unclosed-quote' | 'text-after-quote';

export interface ScanResult {
  /** The complete rows, in order: all fields, or the projected ones (see `ScanOptions.columns`). */
  rows: string[][];
  /** How many lines each row spans: 1, plus the line breaks inside its quoted fields. */
  lines: number[];
  /** Each row's field count in the text (with a projection the rows are shorter), or null without one. */
  widths: number[] | null;
  /**
   * With `raw` (and no projection): each row's text without its line break, when the row is
   * exactly its fields joined by the delimiter (no quotes, no leading whitespace), else null.
   */
  raws?: (string | null)[] | null;
  /** With `raws` from the WebAssembly reader: per row, false when no field starts or ends with whitespace (see `WasmRowsResult.edgeSpaces`). */
  edgeSpaces?: boolean[] | null;
  /** The text after the last complete row: an unfinished row, or whitespace. */
  rest: string;
  /** A syntax error in the row right after the returned rows, which `rest` starts with. */
  error: ScanErrorKind | null;
  /** With an error: the offset in `rest` of the character at fault (an unclosed field's opening quote). */
  errorAt?: number;
  /** The parser's own error, when it threw one (fast-csv's quotes the raw input). */
  cause?: unknown;
}

export interface ScanOptions {
  /**
   * Field indexes to keep, in this order (duplicates allowed): the rows hold only these.
   * A row with fewer fields has `undefined` in the missing places; `widths` tells.
   */
  columns?: readonly number[] | null;
  /**
   * With `columns`: count every field of each row (`widths` exact). Without, a row's width
   * is only known to be past the last wanted column, and is reported as that.
   * @default true
   */
  countWidth?: boolean;
  /** Stop after this many rows (the rest stays in `rest`), e.g. to read a header alone. */
  limit?: number;
  /** Report each row's raw text where it is the fields joined (see `ScanResult.raws`). */
  raw?: boolean;
}

const LF = 10;
const CR = 13;

/** JavaScript's `\s`, less CR and LF (which are line breaks to the parser). */
export function isJsSpace(c: number): boolean {
  if (c <= 32) return c === 32 || c === 9 || c === 11 || c === 12;
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Why the scanner cannot read with these characters (fast-csv's parser then does), or null.
 * Each must be one UTF-16 unit, none a line break; the quote is not whitespace; the
 * delimiter differs from the quote and the escape.
 */
export function fastDialectProblem(dialect: CsvDialect): string | null {
  const { delimiter, quote, escape } = dialect;
  for (const [name, value] of [['delimiter', delimiter], ['quote', quote], ['escape', escape]] as const) {
    if (typeof value !== 'string' || value.length !== 1) return `${name} is not a single character`;
    if (value === '\r' || value === '\n') return `${name} is a line break`;
  }
  if (isJsSpace(quote.charCodeAt(0)) || isJsSpace(escape.charCodeAt(0))) return 'the quote or escape is whitespace';
  if (delimiter === quote || delimiter === escape) return 'the delimiter is also the quote or escape';
  return null;
}

/** Internal outcome of one row, for the general path. */
const INCOMPLETE = -1;
const UNCLOSED = -3;
const MALFORMED = -4;

/** Which whitespace around fields the scanner drops (none by default: see the top of this file). */
export interface ScanTrim {
  ltrim: boolean;
  rtrim: boolean;
}

const NO_TRIM: ScanTrim = { ltrim: false, rtrim: false };

/** Trims a field as asked, or null for no trimming. (`String.prototype.trim`'s whitespace is `\s`.) */
export function fieldTrimmer({ ltrim, rtrim }: ScanTrim): ((field: string) => string) | null {
  if (ltrim && rtrim) return (field) => field.trim();
  if (ltrim) return (field) => field.trimStart();
  return rtrim ? (field) => field.trimEnd() : null;
}

export class CsvScanner {
  private readonly delimiter: string;
  private readonly delim: number;
  private readonly quote: string;
  private readonly quoteCode: number;
  private readonly escapeCode: number;
  private readonly ltrim: boolean;
  private readonly rtrim: boolean;
  /** Trims a plain field as asked (null: fields are kept as they are). */
  private readonly trimField: ((field: string) => string) | null;
  /** Set by the general path: the fields of the row it read, the lines it spans, where it failed. */
  private fields: string[] = [];
  private rowLines = 1;
  private errorAt = 0;

  constructor(dialect: CsvDialect, trim: ScanTrim = NO_TRIM) {
    const problem = fastDialectProblem(dialect);
    if (problem) throw new TypeError(`CsvScanner: ${problem}`);
    this.delimiter = dialect.delimiter;
    this.delim = dialect.delimiter.charCodeAt(0);
    this.quote = dialect.quote;
    this.quoteCode = dialect.quote.charCodeAt(0);
    this.escapeCode = dialect.escape.charCodeAt(0);
    this.ltrim = trim.ltrim;
    this.rtrim = trim.rtrim;
    this.trimField = fieldTrimmer(trim);
  }

  /**
   * The complete rows of `text`. `more`: input may follow, so a row is complete only once
   * its line break is seen (at the end of the input the last row needs none).
   */
  scan(text: string, more: boolean, options: ScanOptions = {}): ScanResult {
    const columns = options.columns ?? null;
    const projection = columns ? new Projection(columns, options.countWidth ?? true) : null;
    const limit = options.limit ?? Infinity;
    const rows: string[][] = [];
    const lines: number[] = [];
    const widths: number[] | null = projection ? [] : null;
    const raws: (string | null)[] | null = options.raw && !projection && this.trimField === null ? [] : null;
    const n = text.length;
    const delimiter = this.delimiter;
    const trimField = this.trimField;
    let p = 0;
    let error: ScanErrorKind | null = null;
    // Next quote and CR at or after p (n when none): searched once, reused until passed.
    let nextQuote = -1;
    let nextCr = -1;
    while (p < n && rows.length < limit) {
      if (nextQuote < p) {
        nextQuote = text.indexOf(this.quote, p);
        if (nextQuote === -1) nextQuote = n;
      }
      if (nextCr < p) {
        nextCr = text.indexOf('\r', p);
        if (nextCr === -1) nextCr = n;
      }
      let end = text.indexOf('\n', p);
      if (end === -1) end = n;
      // (nextQuote and nextCr equal `end` only when both are n: no quote or CR is left.)
      if (end <= nextQuote && end <= nextCr) {
        // The common row: no quote, no CR — fields are the text between delimiters, verbatim.
        if (end === n && more) break;
        if (end === p) {
          rows.push(projection ? projection.pick([]) : []);
          if (widths) widths.push(0);
          if (raws) raws.push(null);
        } else if (projection) {
          const row = projection.take(text, p, end, delimiter);
          if (trimField) for (let i = 0; i < row.length; i++) if (row[i] !== undefined) row[i] = trimField(row[i]);
          rows.push(row);
          widths!.push(projection.width);
        } else {
          const row: string[] = [];
          let start = p;
          for (;;) {
            let at = text.indexOf(delimiter, start);
            if (at === -1 || at > end) at = end;
            row.push(trimField ? trimField(text.slice(start, at)) : text.slice(start, at));
            if (at === end) break;
            start = at + 1;
          }
          rows.push(row);
          if (raws) raws.push(text.slice(p, end));
        }
        lines.push(1);
        p = end + 1;
        continue;
      }
      const next = this.generalRow(text, p, more);
      if (next === INCOMPLETE) break;
      if (next === UNCLOSED || next === MALFORMED) {
        error = next === UNCLOSED ? 'unclosed-quote' : 'text-after-quote';
        break;
      }
      const fields = this.fields;
      if (projection) {
        rows.push(projection.pick(fields));
        widths!.push(projection.reported(fields.length));
      } else {
        rows.push(fields);
        if (raws) raws.push(null);
      }
      lines.push(this.rowLines);
      p = next;
    }
    const result: ScanResult = { rows, lines, widths, raws, rest: p === 0 ? text : text.slice(p), error };
    if (error) result.errorAt = this.errorAt - p;
    return result;
  }

  /**
   * Reads the row at `p` (one with a quote or a CR) character by character. Returns the
   * position after the row (its fields and lines in `this.fields` and `this.rowLines`), or
   * INCOMPLETE, UNCLOSED or MALFORMED (the offending position in `this.errorAt`).
   */
  private generalRow(s: string, p: number, more: boolean): number {
    const n = s.length;
    const delim = this.delim;
    const fields: string[] = [];
    this.fields = fields;
    this.rowLines = 1;
    // A line with no character: the empty row.
    if (s.charCodeAt(p) === CR) return this.lineBreak(s, p, more);
    let i = p;
    for (;;) {
      // A field starts at i.
      const from = this.ltrim ? this.skipSpace(s, i) : i;
      if (from < n && s.charCodeAt(from) === this.quoteCode) {
        const closed = this.quoted(s, from, more);
        if (closed < 0) return closed;
        const j = this.rtrim ? this.skipSpace(s, closed) : closed;
        if (j === n) return more ? INCOMPLETE : n;
        const c = s.charCodeAt(j);
        if (c === delim) {
          i = j + 1;
          continue;
        }
        if (c === LF || c === CR) return this.lineBreak(s, j, more);
        this.errorAt = j;
        return MALFORMED;
      }
      let end = from;
      while (end < n) {
        const c = s.charCodeAt(end);
        if (c === delim || c === LF || c === CR) break;
        end++;
      }
      if (end === n && more) return INCOMPLETE;
      fields.push(this.rtrim ? s.slice(from, end).trimEnd() : s.slice(from, end));
      if (end === n) return n;
      if (s.charCodeAt(end) !== delim) return this.lineBreak(s, end, more);
      i = end + 1;
    }
  }

  /** The position after the line break at `at` (LF, CR or CRLF), or INCOMPLETE for a CR that may be half a CRLF. */
  private lineBreak(s: string, at: number, more: boolean): number {
    if (s.charCodeAt(at) === LF) return at + 1;
    if (at + 1 < s.length) return s.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
    return more ? INCOMPLETE : s.length;
  }

  /**
   * The quoted field opening at `q`: pushes it and returns the position after its closing
   * quote, or INCOMPLETE (more input may close it, or double the closing quote) or UNCLOSED.
   */
  private quoted(s: string, q: number, more: boolean): number {
    const n = s.length;
    const quote = this.quoteCode;
    const escape = this.escapeCode;
    let i = q + 1;
    let from = i; // start of the current run of literal characters
    let value = '';
    let lines = 0;
    let closed = -1;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === escape) {
        const f = i + 1 < n ? s.charCodeAt(i + 1) : -1;
        if (f === quote || f === escape) {
          // An escaped quote or escape: keep the second character only.
          value += s.slice(from, i);
          from = i + 1;
          i += 2;
          continue;
        }
        if (escape === quote) {
          closed = i;
          break;
        }
        i++; // an escape before anything else is literal
        continue;
      }
      if (c === quote) {
        closed = i;
        break;
      }
      if (c === LF) lines++;
      else if (c === CR && (i + 1 >= n || s.charCodeAt(i + 1) !== LF)) lines++;
      i++;
    }
    if (closed === -1) {
      if (more) return INCOMPLETE;
      this.errorAt = q;
      return UNCLOSED;
    }
    this.fields.push(value + s.slice(from, closed));
    this.rowLines += lines;
    return closed + 1;
  }

  /** The first position at or after `i` that is not whitespace (n when there is none). */
  private skipSpace(s: string, i: number): number {
    const n = s.length;
    const delim = this.delim;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === delim || !isJsSpace(c)) return i;
      i++;
    }
    return n;
  }
}

/** The fields at `columns`, in that order (`undefined` where the row has none). */
export function pickColumns(fields: readonly string[], columns: readonly number[]): string[] {
  return columns.map((column) => fields[column]);
}

/**
 * Picks the wanted fields of a row. `take` splits the text itself and stops after the last
 * wanted field (then only counts delimiters, if asked); `pick` works on a parsed row.
 */
class Projection {
  /** 1 for each field index that is wanted, up to the last one. */
  private readonly wanted: Uint8Array;
  /** Scratch: the wanted fields of the current row, by field index. */
  private readonly values: string[];
  private readonly last: number;
  /** Set by `take`: the row's field count (or last + 1 when not counting past it). */
  width = 0;

  constructor(private readonly columns: readonly number[], private readonly countWidth: boolean) {
    this.last = Math.max(...columns);
    this.wanted = new Uint8Array(this.last + 1);
    for (const column of columns) this.wanted[column] = 1;
    this.values = new Array<string>(this.last + 1).fill('');
  }

  take(text: string, p: number, end: number, delimiter: string): string[] {
    const { wanted, values, last } = this;
    let start = p;
    let index = 0;
    let width: number;
    for (;;) {
      let at = text.indexOf(delimiter, start);
      if (at === -1 || at > end) at = end;
      if (wanted[index] === 1) values[index] = text.slice(start, at);
      if (at === end) {
        width = index + 1;
        break;
      }
      start = at + 1;
      if (++index > last) {
        // `index` fields are read; one more follows, plus one per delimiter left.
        width = this.countWidth ? index + 1 + countOf(text, delimiter, start, end) : index;
        break;
      }
    }
    this.width = width;
    return this.build(values, width);
  }

  pick(fields: readonly string[]): string[] {
    return this.build(fields, fields.length);
  }

  /** The width to report for a row of `count` fields (see `ScanOptions.countWidth`). */
  reported(count: number): number {
    return this.countWidth || count <= this.last ? count : this.last + 1;
  }

  /** The output row: packed, with `undefined` for columns the row does not have. */
  private build(values: readonly string[], width: number): string[] {
    const columns = this.columns;
    const row: string[] = [];
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i];
      row.push(column < width ? values[column] : (undefined as unknown as string));
    }
    return row;
  }
}

/** How many times `delimiter` occurs in text[start, end). */
function countOf(text: string, delimiter: string, start: number, end: number): number {
  let count = 0;
  for (;;) {
    const at = text.indexOf(delimiter, start);
    if (at === -1 || at >= end) return count;
    count++;
    start = at + 1;
  }
}
