/**
 * A CSV scanner that gives exactly the rows fast-csv's `Parser` gives, several times faster.
 * Pure code over decoded text: `scan(text, more)` returns the complete rows of `text` and
 * the unfinished rest, so chunk boundaries are tested without streams.
 *
 * The contract, checked field for field against fast-csv by test/csv/csv-differential.test.ts
 * (and read off fast-csv 5's Parser, RowParser and column parsers):
 * - Rows end at LF, CRLF or a lone CR. With more input to come, a CR at the very end of the
 *   text is held back (it may be the first half of a CRLF).
 * - "Whitespace" is what JavaScript's `\s` matches, except CR, LF and the delimiter.
 * - A line of only whitespace is the empty row `[]`; whitespace alone at the end of the input
 *   is no row at all.
 * - An unquoted field is taken verbatim (leading and trailing whitespace kept, quotes in its
 *   middle literal) — except the first field of a row, which is `''` when it is only
 *   whitespace before the delimiter.
 * - A quoted field may have whitespace before its opening and after its closing quote; that
 *   whitespace is dropped. Inside, the escape character (by default the quote itself) followed
 *   by the quote or the escape stands for that character; an escape before anything else is
 *   literal. After the closing quote (and whitespace) must come the delimiter, a line break
 *   or the end of the input, else the row fails: "text after a closing quote".
 * - A quote still open at the end of the input fails: "unclosed quote".
 * - A byte-order mark is not this scanner's business: the caller strips one at the start of
 *   the input only (fast-csv strips one at the start of every text it is given, so a mark in
 *   the middle of a file was kept or dropped depending on where the chunks happened to split).
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
  /** The text after the last complete row: an unfinished row, or whitespace. */
  rest: string;
  /** A syntax error in the row right after the returned rows, which `rest` starts with. */
  error: ScanErrorKind | null;
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
function isJsSpace(c: number): boolean {
  if (c <= 32) return c === 32 || c === 9 || c === 11 || c === 12;
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/**
 * Why the scanner cannot stand in for fast-csv with these characters, or null when it can.
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
const END = -2;
const UNCLOSED = -3;
const MALFORMED = -4;

export class CsvScanner {
  private readonly delimiter: string;
  private readonly delim: number;
  private readonly quote: string;
  private readonly quoteCode: number;
  private readonly escapeCode: number;
  /** Set by the general path: the fields of the row it read, and the lines it spans. */
  private fields: string[] = [];
  private rowLines = 1;

  constructor(dialect: CsvDialect) {
    const problem = fastDialectProblem(dialect);
    if (problem) throw new TypeError(`CsvScanner: ${problem}`);
    this.delimiter = dialect.delimiter;
    this.delim = dialect.delimiter.charCodeAt(0);
    this.quote = dialect.quote;
    this.quoteCode = dialect.quote.charCodeAt(0);
    this.escapeCode = dialect.escape.charCodeAt(0);
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
    const raws: (string | null)[] | null = options.raw && !projection ? [] : null;
    const n = text.length;
    const delimiter = this.delimiter;
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
      const first = text.charCodeAt(p);
      // (nextQuote and nextCr equal `end` only when both are n: no quote or CR is left.)
      if (end <= nextQuote && end <= nextCr && first !== this.quoteCode && !isJsSpace(first)) {
        // The common row: no quote, no CR, no leading whitespace — fields are the text
        // between delimiters, verbatim.
        if (end === n && more) break;
        if (first === LF) {
          rows.push(projection ? projection.pick([]) : []);
          if (widths) widths.push(0);
          if (raws) raws.push(null);
        } else if (projection) {
          const row = projection.take(text, p, end, delimiter);
          rows.push(row);
          widths!.push(projection.width);
        } else {
          const row: string[] = [];
          let start = p;
          for (;;) {
            let at = text.indexOf(delimiter, start);
            if (at === -1 || at > end) at = end;
            row.push(text.slice(start, at));
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
      if (next === INCOMPLETE || next === END) break;
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
    return { rows, lines, widths, raws, rest: p === 0 ? text : text.slice(p), error };
  }

  /**
   * Reads the row at `p` character by character, following fast-csv's RowParser exactly.
   * Returns the position after the row (its fields and lines in `this.fields` and
   * `this.rowLines`), or INCOMPLETE, END (only whitespace left), UNCLOSED or MALFORMED.
   */
  private generalRow(s: string, p: number, more: boolean): number {
    const n = s.length;
    const delim = this.delim;
    const fields: string[] = [];
    this.fields = fields;
    this.rowLines = 1;
    // The row's first token: the first character that is not whitespace.
    let token = this.skipSpace(s, p);
    if (token === n) return END;
    // fast-csv's cursor: where the next column starts. It stays at the row start while the
    // first token is an ordinary character, so that column keeps its leading whitespace;
    // a first token that is the delimiter makes the first field '' whatever preceded it.
    let cursor = p;
    if (s.charCodeAt(token) === delim) fields.push('');
    for (;;) {
      // `token` is the position of the current token, or n when there is none.
      if (token === n) return more ? INCOMPLETE : n;
      const c = s.charCodeAt(token);
      if (c === LF) return token + 1;
      if (c === CR) {
        if (token + 1 < n) return s.charCodeAt(token + 1) === LF ? token + 2 : token + 1;
        return more ? INCOMPLETE : n;
      }
      if (c === delim) {
        cursor = token + 1;
        if (cursor === n) {
          fields.push('');
          token = n;
          continue;
        }
        const after = s.charCodeAt(cursor);
        if (after === CR || after === LF || after === delim) {
          fields.push('');
          token = cursor;
          continue;
        }
      }
      // A column starts at `cursor`: quoted if its first non-whitespace character is the quote.
      const q = this.skipSpace(s, cursor);
      if (q < n && s.charCodeAt(q) === this.quoteCode) {
        const next = this.quoted(s, q, more);
        if (next < 0) return next;
        cursor = next;
      } else {
        let end = cursor;
        while (end < n) {
          const ch = s.charCodeAt(end);
          if (ch === delim || ch === LF || ch === CR) break;
          end++;
        }
        fields.push(s.slice(cursor, end));
        cursor = end;
      }
      token = this.skipSpace(s, cursor);
    }
  }

  /**
   * The quoted field opening at `q`: pushes it and returns where the row goes on (at the
   * delimiter or line break after it, or past the closing quote when more input may still
   * decide), or INCOMPLETE, UNCLOSED or MALFORMED.
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
    if (closed === -1) return more ? INCOMPLETE : UNCLOSED;
    this.fields.push(value + s.slice(from, closed));
    this.rowLines += lines;
    // After the closing quote: whitespace, then the delimiter, a line break or the end.
    const after = closed + 1;
    const next = this.skipSpace(s, after);
    if (next < n) {
      const c = s.charCodeAt(next);
      if (c !== this.delim && c !== LF && c !== CR) return MALFORMED;
      return next;
    }
    return more ? after : n;
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
