/**
 * `csv.split`: a CSV file as byte-range splits, for running one pipeline on many workers
 * (lib/distributed). `plan(n)` scans the file once (split-cuts.ts): it snaps every cut to
 * a line start, proves each cut is outside quotes (or refuses, naming the cut and line),
 * counts the lines before each cut and reads the header; `open(split)` reads that byte
 * range only, with real file line numbers in every origin, error and reject.
 */
import { createReadStream } from 'node:fs';
import { open as openFile, stat } from 'node:fs/promises';
import { checkInteger, checkOneOf, checkOptions, fail, moreOptionNames, named } from '../core/validate.js';
import { CsvError } from './errors.js';
import type { CsvParseStage } from './parse.js';
import { CSV_READ_OPTIONS, csvRead, type CsvReadOptions } from './read.js';
import { CutScanner, type Cut } from './split-cuts.js';

export interface CsvSplitOptions extends CsvReadOptions {
  /**
   * A cut that falls on a line break inside a quoted field (where naive snapping to a line
   * start would halve a row): `'refuse'` the plan with a CsvError naming the cut and the
   * line, or `'follow'` the row to its end and cut at the next row.
   * @default 'refuse'
   */
  quotedLineBreaks?: 'refuse' | 'follow';
}

/** csv.read()'s option names, and `quotedLineBreaks`. */
const CSV_SPLIT_OPTIONS = moreOptionNames<CsvSplitOptions, CsvReadOptions>('csv.split()', CSV_READ_OPTIONS, { quotedLineBreaks: true });

/** One byte range of a CSV file: serialisable (JSON), and all a worker needs to read it. */
export interface CsvSplit {
  readonly kind: 'csv';
  /** Stable across plans of the same file: the file and the byte range. */
  readonly id: string;
  readonly file: string;
  /** 0-based position in the plan, and the plan's number of splits. */
  readonly index: number;
  readonly count: number;
  /** Byte range [start, end): starts at a row start, ends after a row's line break (or at the end of the file). */
  readonly start: number;
  readonly end: number;
  /** 1-based file line of the split's first byte. */
  readonly line: number;
  /** The header's names (read by the plan) for splits after the first, or null: none. */
  readonly names: readonly string[] | null;
}

const CHUNK = 1 << 20;

/** See {@link csvSplit}. */
export class CsvSplitSource<Row = string[]> {
  private readonly options: CsvReadOptions;
  private readonly quotedLineBreaks: 'refuse' | 'follow';

  constructor(readonly file: string, options: CsvSplitOptions) {
    const { quotedLineBreaks, ...read } = checkOptions('options', options, CSV_SPLIT_OPTIONS) as CsvSplitOptions;
    this.quotedLineBreaks = checkOneOf('quotedLineBreaks', quotedLineBreaks ?? 'refuse', ['refuse', 'follow'] as const);
    for (const key of ['delimiter', 'quote', 'escape'] as const) {
      const value = read[key];
      if (value !== undefined && (typeof value !== 'string' || value.length !== 1 || value.charCodeAt(0) > 127)) {
        fail(key, 'a single ASCII character (byte-range splits scan bytes)', value);
      }
    }
    if (read.encoding !== undefined && !['utf8', 'utf-8', 'latin1', 'ascii'].includes(read.encoding)) {
      fail('encoding', "'utf8', 'latin1' or 'ascii' (byte-range splits need an ASCII-compatible encoding)", read.encoding);
    }
    this.options = read;
  }

  /**
   * Plans at most `n` splits of about equal size (fewer when the file has fewer rows than
   * cuts). Reads the whole file once, a megabyte at a time.
   */
  async plan(n: number): Promise<CsvSplit[]> {
    named('csv.split().plan()', () => checkInteger('n', n, 1));
    const { size } = await stat(this.file);
    const targets = Array.from({ length: n - 1 }, (_, i) => Math.floor(((i + 1) * size) / n));
    const cuts = await this.scan(targets);
    const starts: { start: number; line: number }[] = [{ start: 0, line: 1 }];
    cuts.forEach((cut, k) => {
      const at = this.resolve(cut, k, n);
      if (at && at.start < size && at.start > starts[starts.length - 1].start) starts.push(at);
    });
    const names = (this.options.header ?? true) === true && starts.length > 1 ? await this.header() : null;
    return starts.map(({ start, line }, index) => {
      const end = index + 1 < starts.length ? starts[index + 1].start : size;
      return { kind: 'csv', id: `csv:${this.file}#${start}-${end}`, file: this.file, index, count: starts.length, start, end, line, names: index === 0 ? null : names };
    });
  }

  /** The rows of one split, as `csv.read` gives them, with their real file lines as origins. */
  open(split: CsvSplit): CsvParseStage<Row> {
    if (!split || split.kind !== 'csv' || split.file !== this.file) named('csv.split().open()', () => fail('split', `a split of ${this.file} planned by csv.split`, split));
    const header = split.start === 0 ? this.options.header : (split.names ?? (Array.isArray(this.options.header) ? this.options.header : false));
    const bytes = createReadStream(this.file, { start: split.start, end: Math.max(split.start, split.end - 1), highWaterMark: this.options.chunkSize ?? 65_536 });
    const { chunkSize: _, ...parse } = this.options;
    const stage = csvRead<Row>(bytes, { ...parse, header, source: this.file });
    // The parser counts lines from 1; a split starts at its line in the file.
    (stage as unknown as { nextLine: number }).nextLine = split.line;
    return stage;
  }

  private resolve(cut: Cut, k: number, n: number): { start: number; line: number } | null {
    if (cut.inside && this.quotedLineBreaks === 'refuse') {
      throw new CsvError(this.file, cut.naiveLine - 1,
        `csv.split: the cut before split ${k + 2} of ${n} (byte ${cut.target}) falls on a line break inside a quoted field, ` +
        `so a byte-range split there would cut a row in two; pass quotedLineBreaks: 'follow' to cut at the next row instead`);
    }
    return cut.safe === null ? null : { start: cut.safe, line: cut.safeLine };
  }

  private async scan(targets: number[]): Promise<Cut[]> {
    const code = (value: string | undefined, fallback: string) => (value ?? fallback).charCodeAt(0);
    const quote = code(this.options.quote, '"');
    const scanner = new CutScanner({ delimiter: code(this.options.delimiter, ','), quote, escape: code(this.options.escape, String.fromCharCode(quote)) }, targets);
    const handle = await openFile(this.file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        scanner.push(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
    return scanner.end();
  }

  /** The header's names, as the parser reads them. */
  private async header(): Promise<string[]> {
    const { rows: _, columns: __, ...parse } = this.options;
    const rows = csvRead<string[]>(this.file, { ...parse, header: false, ragged: 'keep' });
    try {
      for await (const row of rows) return row;
      return [];
    } finally {
      rows.destroy();
    }
  }
}

/**
 * A CSV file as splits for `distributed` runs: `plan(n)` cuts it into at most `n` byte
 * ranges snapped to row starts (each cut proven outside quotes by a scan, or the plan is
 * refused naming the cut and line), and `open(split)` reads one range as `csv.read` would
 * read the file, with real file line numbers. Takes `csv.read`'s options.
 *
 * @param file The file's path (each worker must see it at this path).
 * @example
 * const source = csv.split('violations.csv', { rows: 'objects' });
 * const splits = await source.plan(8);     // [{ kind: 'csv', start: 0, end: 13_107_302, line: 1, … }, …]
 * await run(source.open(splits[3]), postgres.write(pool, { table: 'violations' }));
 */
export function csvSplit<Row = Record<string, string>>(file: string, options: CsvSplitOptions & { rows: 'objects' }): CsvSplitSource<Row>;
export function csvSplit<Row = string[]>(file: string, options?: CsvSplitOptions): CsvSplitSource<Row>;
export function csvSplit<Row = string[]>(file: string, options: CsvSplitOptions = {}): CsvSplitSource<Row> {
  return named('csv.split()', () => {
    if (typeof file !== 'string' || file === '') fail('file', 'a path', file);
    return new CsvSplitSource<Row>(file, options);
  });
}
