/**
 * Differential tests: sluice's CSV scanner against fast-csv's parser, which it must equal
 * exactly (rows, fields, lines, error kinds and the unfinished rest) on thousands of
 * generated inputs outside fast-csv's documented quirk classes (whitespace at the edge of a
 * field, next to a quote, or alone on a line: see docs/csv.md and `quirkFree`) — first as
 * pure functions, then through the csv.parse stage with the input split into random chunks
 * (inside multi-byte characters, between \r and \n, inside quotes). The formatter likewise,
 * for values outside the classes where sluice's formatter quotes and fast-csv's loses data.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { format as fastCsvFormat } from 'fast-csv';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ParserOptions } from '@fast-csv/parse';
import { Parser } from '@fast-csv/parse/build/src/parser/Parser.js';
import { CsvScanner, pickColumns, type CsvDialect, type ScanErrorKind } from '../../lib/csv/scanner.js';
import { linesSpanned } from '../../lib/csv/lines.js';
import { addColumn, csv, map, run, type CsvFormatOptions, type CsvParseOptions } from '../../lib/index.js';
import { bytes, parseChunks, textSink } from '../helpers/csv.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';

/** `SLUICE_PROPERTY_SCALE=20 npx mocha test/csv/differential.test.ts` (or CSV_FUZZ_SCALE) runs 20 times as many cases. */
const runs = (n: number) => ({ numRuns: Math.round(n * scale) });

/** The dialects both parsers are compared in (fast-csv option names). */
const dialects: Partial<CsvDialect>[] = [{}, { delimiter: ';' }, { delimiter: '\t' }, { quote: "'" }, { escape: '\\' }, { delimiter: '|', quote: "'", escape: '\\' }];

const resolved = (d: Partial<CsvDialect>): CsvDialect => {
  const quote = d.quote ?? '"';
  return { delimiter: d.delimiter ?? ',', quote, escape: d.escape ?? quote };
};

/**
 * CSV-ish text from pieces chosen to hit every rule: quotes (doubled, escaped, stray),
 * delimiters of every dialect, LF/CRLF/CR, whitespace of several kinds (tab, NBSP, U+2028,
 * a BOM inside the text), multi-byte characters, backslashes.
 */
const soup = fc
  .array(
    fc.constantFrom('a', 'b', 'xyz', ' ', '  ', '\t', ',', ';', '|', '"', '""', "'", '\\', '\n', '\r', '\r\n', '\n\n', 'é', '😀', '€', '\u00a0', '\u2028', '\ufeff', '\u0000'),
    { maxLength: 40 },
  )
  .map((pieces) => pieces.join(''));

/** JavaScript's `\s` less CR and LF: what fast-csv skips around fields. */
const SPACES = ' \t\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
const reEscape = (text: string) => text.replace(/[\\\]^[-]/g, '\\$&');

/**
 * Whether `text` is outside fast-csv's quirk classes: no whitespace (other than the
 * delimiter) at the start or end of the text or a line, next to a delimiter or a quote.
 * (Conservative: whitespace just inside a quoted field is excluded too.)
 */
function quirkFree(text: string, d: CsvDialect): boolean {
  const space = `[${reEscape([...SPACES].filter((c) => c !== d.delimiter).join(''))}]`;
  const edge = `[\\r\\n${reEscape(d.delimiter + d.quote)}]`;
  return !new RegExp(`(^|${edge})${space}|${space}($|${edge})`).test(text);
}

/** `soup` whose whitespace sits between letters, so that most of it is quirk-free. */
const innerSoup = fc
  .array(
    fc.constantFrom('a', 'b', 'xyz', 'a b', 'x\ty', 'é\u00a0ü', 'a\u2028b', 'b\ufeffc', ',', ';', '|', '"', '""', "'", '\\', '\n', '\r', '\r\n', '\n\n', 'é', '😀', '€', '\u0000', ' '),
    { maxLength: 40 },
  )
  .map((pieces) => pieces.join(''));

/**
 * Well-formed-looking CSV: rows of plain or quoted fields, ragged, with empty lines and
 * (unless `spaced` is false) spaces around fields and quotes.
 */
function structured(d: CsvDialect, spaced = true): fc.Arbitrary<string> {
  const plain = fc.stringMatching(/^[a-zA-Z0-9 éü€😀.\-]{0,6}$/).map((text) => (spaced ? text : text.trim()));
  const quotedText = fc
    .array(fc.constantFrom('a', ' ', d.delimiter, '\n', '\r\n', '\r', 'Ω', `${d.escape}${d.quote}`, ...(d.escape === d.quote ? [] : [`${d.escape}${d.escape}`, d.escape + 'x'])), { maxLength: 6 })
    .map((parts) => parts.join(''));
  const space = spaced ? fc.constantFrom('', '', '', ' ', '\t ') : fc.constant('');
  const field = fc.oneof(
    { weight: 3, arbitrary: plain },
    { weight: 2, arbitrary: fc.tuple(space, quotedText, space).map(([before, text, after]) => `${before}${d.quote}${text}${d.quote}${after}`) },
  );
  const row = fc.array(field, { minLength: 0, maxLength: 5 }).map((fields) => fields.join(d.delimiter));
  const eol = fc.constantFrom('\n', '\n', '\r\n', '\r');
  return fc
    .tuple(fc.boolean(), fc.array(fc.tuple(row, eol), { maxLength: 8 }), fc.boolean())
    .map(([bom, rows, lastEol]) => {
      const text = rows.map(([r, e], i) => (i < rows.length - 1 || lastEol ? r + e : r)).join('');
      return (bom ? '\ufeff' : '') + text;
    });
}

interface Reference {
  rows: string[][];
  lines: number[];
  rest: string | null;
  error: ScanErrorKind | null;
}

/** fast-csv's answer for a whole text: its rows, or the rows before the error and the error. */
function fastCsv(text: string, more: boolean, d: Partial<CsvDialect>): Reference {
  const options = new ParserOptions(d);
  const attempt = (t: string, m: boolean) => new Parser(options).parse(t, m);
  try {
    const { rows, line } = attempt(text, more);
    return { rows, lines: rows.map(linesSpanned), rest: line, error: null };
  } catch (error) {
    const ok = (length: number) => {
      try {
        return attempt(text.slice(0, length), true).rows;
      } catch {
        return null;
      }
    };
    let low = 0;
    let high = text.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (ok(mid)) low = mid;
      else high = mid - 1;
    }
    const rows = ok(low) ?? [];
    const kind = (error as Error).message.includes('missing closing') ? 'unclosed-quote' : 'text-after-quote';
    return { rows, lines: rows.map(linesSpanned), rest: null, error: kind };
  }
}

/** The scanner's answer in the same shape (`rest` only when there is no error). */
function scanned(text: string, more: boolean, d: Partial<CsvDialect>): Reference {
  const { rows, lines, rest, error } = new CsvScanner(resolved(d)).scan(text, more);
  return { rows, lines, rest: error ? null : rest, error };
}

/** fast-csv drops a leading U+FEFF of any text; the scanner leaves that to its caller. */
const noLeadingBom = (text: string) => (text.charCodeAt(0) === 0xfeff ? `x${text}` : text);

/** Generated text for the fast-csv differential: outside its quirk classes. */
const forFastCsv = (d: CsvDialect) => fc.oneof(innerSoup, structured(d, false)).map(noLeadingBom).filter((text) => quirkFree(text, d));

describe('CSV scanner vs fast-csv (differential)', function () {
  this.timeout(scaledTimeout);
  describe('pure scan of a whole text', () => {
    for (const d of dialects) {
      it(`random text outside the quirk classes, ${JSON.stringify(d)}: same rows, lines, rest and error`, () => {
        fc.assert(
          fc.property(forFastCsv(resolved(d)), fc.boolean(), (text, more) => {
            expect(scanned(text, more, d)).to.deep.equal(fastCsv(text, more, d));
          }),
          runs(1500),
        );
      });
    }

    it('columns: the projected rows are the picked fields; widths are the full field counts', () => {
      const d = resolved({});
      fc.assert(
        fc.property(
          fc.oneof(soup, structured(d)),
          fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          (raw, columns, countWidth) => {
            const text = noLeadingBom(raw);
            const full = new CsvScanner(d).scan(text, false);
            const projected = new CsvScanner(d).scan(text, false, { columns, countWidth });
            expect(projected.error).to.equal(full.error);
            expect(projected.lines).to.deep.equal(full.lines);
            expect(projected.rows).to.deep.equal(full.rows.map((row) => pickColumns(row, columns)));
            const last = Math.max(...columns);
            // Without counting, a width past the last wanted column is reported as last + 1.
            const widths = full.rows.map((row) => (countWidth || row.length <= last ? row.length : last + 1));
            expect(projected.widths).to.deep.equal(widths);
          },
        ),
        runs(1500),
      );
    });

    it('limit: rows read one at a time, each from the rest of the last, add up to a full scan', () => {
      const d = resolved({});
      fc.assert(
        fc.property(structured(d), (raw) => {
          const text = noLeadingBom(raw);
          const scanner = new CsvScanner(d);
          const rows: string[][] = [];
          let rest = text;
          for (;;) {
            const one = scanner.scan(rest, false, { limit: 1 });
            if (one.rows.length === 0) break;
            expect(one.rows).to.have.length(1);
            rows.push(one.rows[0]);
            rest = one.rest;
          }
          expect(rows).to.deep.equal(scanner.scan(text, false).rows);
        }),
        runs(500),
      );
    });
  });

  describe('csv.parse stage, input split into random chunks', () => {
    /** Cuts a buffer at sorted random positions (any byte: inside characters, CRLF, quotes). */
    const chunked = (input: Buffer, cuts: number[]) => {
      const at = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let from = 0;
      for (const cut of at) {
        chunks.push(input.subarray(from, cut));
        from = cut;
      }
      chunks.push(input.subarray(from));
      return chunks;
    };

    const stageOptions = fc.record(
      {
        header: fc.boolean(),
        ignoreEmpty: fc.boolean(),
        ragged: fc.constantFrom('fail', 'reject', 'keep'),
        trim: fc.boolean(),
        dialect: fc.constantFrom(...dialects),
      },
      { requiredKeys: ['header', 'ignoreEmpty', 'ragged', 'trim', 'dialect'] },
    );

    /**
     * The message without what only sluice's syntax errors say: the position of the fault
     * (fast-csv names the line its row starts on), a hint.
     */
    const plainMessage = (error: Error | null) => {
      const message = error?.message.replace(/text after a closing quote \(.*\)$/, 'malformed CSV (text after a closing quote?)');
      return message?.includes('quote') ? message.replace(/, line \d+(, column \d+)?/, '') : message;
    };

    it("sluice's scanner and fast-csv give the same rows, lines and error, outside the quirk classes", async () => {
      await fc.assert(
        fc.asyncProperty(
          forFastCsv(resolved({})),
          fc.array(fc.nat(), { maxLength: 6 }),
          stageOptions,
          async (text, cuts, { dialect, ragged, ...rest }) => {
            fc.pre(quirkFree(text, resolved(dialect)));
            // An empty header line fails with sluice; fast-csv's parser takes the next one.
            fc.pre(!(rest.header && !rest.ignoreEmpty && /^\ufeff?(\r|\n)/.test(text)));
            // fast-csv's parser trims inside quotes too (a line break at a quoted field's edge).
            const q = reEscape(resolved(dialect).quote);
            fc.pre(!(rest.trim && new RegExp(`${q}[\\r\\n]|[\\r\\n]${q}`).test(text)));
            // 'reject' without a rejects target fails at the first ragged row, like 'fail' but
            // through the reject path.
            const options: CsvParseOptions = { ...rest, ...dialect, ragged: ragged as CsvParseOptions['ragged'] };
            // A header line of one field of only whitespace (quoted: `"\n\n"`) fails with sluice too.
            if (rest.header) {
              const [first] = (await parseChunks([Buffer.from(text)], { ...options, header: false, ragged: 'keep', parser: 'fast-csv' })).rows as string[][];
              fc.pre(!(first?.length === 1 && first[0] !== '' && first[0].trim() === ''));
            }
            const chunks = chunked(Buffer.from(text), cuts);
            const sluice = await parseChunks(chunks, { ...options, parser: 'auto' });
            const reference = await parseChunks([Buffer.from(text)], { ...options, parser: 'fast-csv' });
            expect(sluice.rows).to.deep.equal(reference.rows);
            expect(sluice.lines).to.deep.equal(reference.lines);
            expect(plainMessage(sluice.error)).to.equal(plainMessage(reference.error));
            if (sluice.error?.line !== undefined) expect(sluice.error.line).to.be.at.least(reference.error?.line ?? 0);
          },
        ),
        runs(400),
      );
    });

    it('fast-csv through the stage gives the same rows for any chunking (the reference is stable)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(soup, structured(resolved({}))), fc.array(fc.nat(), { maxLength: 6 }), async (text, cuts) => {
          const options: CsvParseOptions = { header: false, ragged: 'keep', parser: 'fast-csv' };
          const whole = await parseChunks([Buffer.from(text)], options);
          const split = await parseChunks(chunked(Buffer.from(text), cuts), options);
          expect(split).to.deep.equal(whole);
        }),
        runs(200),
      );
    });

    it('columns give the picked fields of the full rows, for any chunking', async () => {
      await fc.assert(
        fc.asyncProperty(
          structured(resolved({})),
          fc.array(fc.nat(), { maxLength: 4 }),
          fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          async (text, cuts, columns, header) => {
            const chunks = chunked(Buffer.from(text), cuts);
            const full = await parseChunks(chunks, { header });
            const projected = await parseChunks(chunks, { header, columns });
            if (full.error || projected.error) {
              // A header or first row too narrow for the columns fails there, and so does a
              // ragged row; the rows before the failure are the same.
              expect(projected.error).to.not.equal(null);
              expect(projected.rows).to.deep.equal(full.rows.slice(0, projected.rows.length).map((row) => pickColumns(row as string[], columns)));
              return;
            }
            expect(projected.rows).to.deep.equal(full.rows.map((row) => pickColumns(row as string[], columns)));
            expect(projected.lines).to.deep.equal(full.lines);
          },
        ),
        runs(300),
      );
    });
  });

  describe('formatting: csv.format with sluice\'s formatter and with fast-csv\'s', () => {
    type Row = unknown[] | Record<string, unknown>;

    async function formatted(rows: readonly Row[], options: CsvFormatOptions): Promise<{ text: string; used: string | null }> {
      const stage = csv.format(options);
      const sink = textSink();
      await pipeline(Readable.from(rows), stage, sink);
      return { text: sink.text(), used: stage.formatterUsed };
    }

    /** Values of every kind fast-csv turns into text, strings full of what needs quoting. */
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.array(fc.constantFrom('a', 'Zoë', '😀', ' ', ',', ';', '\t', '|', '"', "'", '""', '\n', '\r', '\r\n', '\u0000', '-', '=1', ''), { maxLength: 5 }).map((p) => p.join('')) },
      { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined)) },
    );
    /**
     * Whether fast-csv's formatter writes these rows without loss, the only place its text
     * must equal sluice's: no NUL (fast-csv strips it), no whitespace at a value's edge and
     * no lone empty field (sluice quotes those; fast-csv's bare ones read back changed).
     */
    const fastCsvWritesSafely = (rows: readonly Row[]) =>
      rows.every((row) => {
        const values = (Array.isArray(row) ? row : Object.values(row)).map((v) => (Array.isArray(v) ? v[1] : v));
        const texts = values.map((v) => `${v ?? ''}`);
        return (texts.length !== 1 || texts[0] !== '') && texts.every((t) => !t.includes('\0') && t.trim() === t);
      });

    const formatOptions = fc.record(
      {
        delimiter: fc.constantFrom(',', ';', '\t', '|', 'e'),
        quote: fc.constantFrom('"', "'"),
        rowDelimiter: fc.constantFrom('\n', '\r\n', '\r', '|', ';;'),
        includeEndRowDelimiter: fc.boolean(),
        quoteColumns: fc.oneof(fc.boolean(), fc.array(fc.boolean(), { maxLength: 4 })),
        writeBOM: fc.boolean(),
      },
      { requiredKeys: [] },
    );

    it('array rows: identical text, with any header choice', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { maxLength: 6 }),
          formatOptions,
          fc.constantFrom<CsvFormatOptions['headers']>(undefined, true, false),
          async (rows, options, headers) => {
            fc.pre(fastCsvWritesSafely(rows));
            // With the first row as the header, later rows are cut to its width: maybe to a lone empty field.
            fc.pre(headers !== true || rows.length === 0 || rows[0].length > 1 || rows.every((row) => `${row[0] ?? ''}` !== ''));
            const sluice = await formatted(rows, { ...options, headers });
            const reference = await formatted(rows, { ...options, headers, formatter: 'fast-csv' });
            expect(sluice.text).to.equal(reference.text);
            if (rows.length > 0) expect(sluice.used).to.equal('sluice');
          },
        ),
        runs(600),
      );
    });

    it('array rows under header names, object rows, hash arrays: identical text', async () => {
      const names = ['id', 'a,b', 'say "hi"', 'x'];
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(value, { minLength: 4, maxLength: 4 }), { maxLength: 5 }),
          formatOptions,
          fc.constantFrom('names', 'objects', 'hash'),
          fc.boolean(),
          async (values, options, shape, giveNames) => {
            const rows: Row[] =
              shape === 'names' ? values
              : shape === 'objects' ? values.map((v) => Object.fromEntries(names.map((n, i) => [n, v[i]])))
              : values.map((v) => names.map((n, i) => [n, v[i]]));
            fc.pre(fastCsvWritesSafely(rows));
            const headers = shape === 'names' || giveNames ? names : undefined;
            const sluice = await formatted(rows, { ...options, headers });
            const reference = await formatted(rows, { ...options, headers, formatter: 'fast-csv' });
            expect(sluice.text).to.equal(reference.text);
          },
        ),
        runs(600),
      );
    });

    it("equals fast-csv's own format() stream", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(value, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }), async (rows) => {
          fc.pre(fastCsvWritesSafely(rows));
          const sink = textSink();
          await pipeline(Readable.from(rows), fastCsvFormat({ includeEndRowDelimiter: true }), sink);
          expect((await formatted(rows, {})).text).to.equal(sink.text());
        }),
        runs(300),
      );
    });

    it('parsed rows written back (as read, a column appended, changed in place): identical text', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(soup, structured(resolved({}))),
          fc.constantFrom<Partial<CsvDialect>>({}, { delimiter: ';' }, { delimiter: '|' }),
          formatOptions,
          fc.constantFrom('as read', 'appended', 'changed in place', 'equal copy'),
          fc.boolean(),
          async (text, dialect, options, change, header) => {
            const read = await parseChunks([text], { ...dialect, header, ragged: 'keep' });
            fc.pre(fastCsvWritesSafely(read.rows as Row[]));
            const write = async (formatter: 'auto' | 'fast-csv') => {
              const sink = textSink();
              const parse = csv.parse({ ...dialect, header, ragged: 'keep' });
              const stage =
                change === 'appended' ? addColumn('n', (row: string[]) => row.length)
                : change === 'changed in place' ? map((row: string[]) => { row[0] = `${row[0]}|x`; return row; })
                : change === 'equal copy' ? map((row: string[]) => row.map((field) => `${field}`))
                : map((row: string[]) => row);
              try {
                await run(bytes([text]), parse, stage, csv.format({ ...options, formatter }), sink);
                return sink.text();
              } catch (error) {
                return (error as Error).message; // the input was not valid CSV
              }
            };
            expect(await write('auto')).to.equal(await write('fast-csv'));
          },
        ),
        runs(400),
      );
    });
  });
});
