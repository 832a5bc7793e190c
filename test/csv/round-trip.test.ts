/**
 * Properties of sluice's CSV reader and writer together (issue 11: nothing lost):
 * - round trip: any rows (any characters: quotes, delimiters, CR, LF, CRLF, NUL, BOM,
 *   Unicode spaces, empty strings, single-field rows, ragged widths) formatted by csv.format
 *   and read by csv.parse, the text split into random chunks, are exactly the rows; object
 *   rows with any header names (integer-like, `__proto__`, spaces) through files read back
 *   as written and are written back as the same file;
 * - an independent reader: csv-parse with RFC options reads the same rows from the same
 *   generated text wherever both accept it (divergences kept on purpose are fixtures in
 *   test/fixtures/csv-conformance: whitespace before a quote, a quote in an unquoted field).
 *
 * `SLUICE_PROPERTY_SCALE=10 npx mocha test/csv/round-trip.test.ts` runs 10 times as many cases.
 */
import { expect } from 'chai';
import { parse as csvParseSync } from 'csv-parse/sync';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csv, run, type CsvFormatOptions } from '../../lib/index.js';
import { collector, parseChunks, textSink } from '../helpers/csv.js';
import { readText, tempDir, type TempDir } from '../helpers/files.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';

const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) });

/** Characters that are CSV syntax, or that a lossy reader or writer drops or trims. */
const edgy = ['"', '""', ',', ';', '\r', '\n', '\r\n', '\0', '\ufeff', ' ', '\t', '\u00a0', '\u2028', '\u3000', '\v', '\f', '|', "'", 'a', 'Zoë', '😀', '1'];
const text = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...edgy), { maxLength: 6 }).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);

/** Text split at random UTF-8 byte positions (inside characters, between CR and LF, inside quotes). */
function chunked(input: string, cuts: readonly number[]): Buffer[] {
  const bytes = Buffer.from(input);
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of at) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

async function formatted(rows: readonly unknown[], options: CsvFormatOptions = {}): Promise<string> {
  const sink = textSink();
  await pipeline(Readable.from(rows), csv.format(options), sink);
  return sink.text();
}

describe('CSV round trip and an independent reader (properties, issue 11)', function () {
  this.timeout(scaledTimeout);
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it('array rows: csv.parse(csv.format(rows)) is rows, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(text, { maxLength: 5 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom<CsvFormatOptions>({}, { delimiter: ';' }, { rowDelimiter: '\r\n' }, { delimiter: '\t', quote: "'" }),
        async (rows, cuts, options) => {
          const written = await formatted(rows, options);
          const parsed = await parseChunks(chunked(written, cuts), { header: false, ragged: 'keep', ignoreEmpty: false, delimiter: options.delimiter, quote: options.quote });
          expect(parsed.error).to.equal(null);
          expect(parsed.rows).to.deep.equal(rows);
        },
      ),
      runs(1500),
    );
  });

  /** Unique, non-empty header names of every awkward kind. */
  const names = fc.uniqueArray(fc.oneof(text, fc.constantFrom('__proto__', 'constructor', '1', '10', '2', ' a ', 'b c', 'toString')), { minLength: 1, maxLength: 5 })
    .filter((list) => list.every((name) => name !== '') && !(list.length === 1 && list[0].trim() === ''));

  it('object rows through files: read back as written, and written back as the same file', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        names.chain((header) => fc.tuple(fc.constant(header), fc.array(fc.array(text, { minLength: header.length, maxLength: header.length }), { maxLength: 5 }))),
        fc.integer({ min: 1, max: 64 }),
        async ([header, values], chunkSize) => {
          const first = dir.file(`objects-${n}.csv`);
          const second = dir.file(`objects-${n++}-again.csv`);
          // Written with the names given (an object's own key order puts integer-like names first).
          const rows = values.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])));
          await run(values, csv.write(first, { headers: header }));
          const sink = collector<Record<string, string>>();
          await run(csv.read(first, { rows: 'objects', chunkSize }), sink);
          expect(sink.rows).to.deep.equal(rows);
          // Read and written back (header from the rows or, with none, from the source): the same file.
          await run(csv.read(first, { rows: 'objects', chunkSize }), csv.write(second));
          expect(await readText(second)).to.equal(await readText(first));
        },
      ),
      runs(300),
    );
  });

  it('object rows through streams: csv.parse(csv.format(rows)) is rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        names.chain((header) => fc.tuple(fc.constant(header), fc.array(fc.array(text, { minLength: header.length, maxLength: header.length }), { maxLength: 5 }))),
        fc.array(fc.nat(), { maxLength: 6 }),
        async ([header, values], cuts) => {
          const written = await formatted(values, { headers: header });
          const parsed = await parseChunks(chunked(written, cuts), { rows: 'objects' });
          expect(parsed.error).to.equal(null);
          expect(parsed.rows).to.deep.equal(values.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]]))));
        },
      ),
      runs(800),
    );
  });

  describe('csv-parse, an independent reader with RFC options', () => {
    const rfc = { relax_column_count: true, record_delimiter: ['\r\n', '\n', '\r'], bom: true, skip_empty_lines: true };
    const raw = fc.array(fc.constantFrom(...edgy, 'x', 'y', ',', '\n'), { maxLength: 30 }).map((p) => p.join(''));
    const wellFormed = fc.array(fc.array(text, { maxLength: 4 }), { maxLength: 6 }).chain((rows) => fc.constant(rows)).map((rows) =>
      rows.map((row) => row.map((f) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)).join(',')).join('\n'));

    it('reads the same rows wherever both accept the input, for any chunking', async () => {
      let both = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(raw, wellFormed), fc.array(fc.nat(), { maxLength: 4 }), async (input, cuts) => {
          let reference: string[][] | null;
          try {
            reference = csvParseSync(input, rfc) as string[][];
          } catch {
            reference = null;
          }
          const sluice = await parseChunks(chunked(input, cuts), { header: false, ragged: 'keep' });
          if (reference === null || sluice.error) return;
          both++;
          expect(sluice.rows).to.deep.equal(reference);
        }),
        runs(2000),
      );
      expect(both).to.be.above(runs(2000).numRuns / 4);
    });

    it('where one rejects, the divergence is a documented class (fixtures whitespace_before_quote, quote_inside_unquoted)', async () => {
      for (const [input, rows] of [
        ['\t"x"\n', [['\t"x"']]],
        ['a,b"c\n', [['a', 'b"c']]],
      ] as const) {
        expect(() => csvParseSync(input, rfc)).to.throw();
        expect((await parseChunks([input], { header: false, ragged: 'keep' })).rows).to.deep.equal(rows);
      }
    });
  });
});
