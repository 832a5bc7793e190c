/**
 * sort() given rows as their text (lib/core/text-row.ts): `csv.read` → `sort(columns)` →
 * `csv.write` is fused (lib/pipeline/fuse-text-rows.ts), the source making only the key fields
 * into strings, the sort spilling text rows as such. Against the same pipeline unfused, on
 * generated files read in chunks of random sizes (quotes, CRLF, multi-byte UTF-8, ragged rows,
 * keys with many ties) under budgets that spill many runs and merge in passes: the same bytes,
 * summary, rejects and errors. `SLUICE_PROPERTY_SCALE=10` runs 10× the cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { csv, sort, tap, type CsvReadOptions, type CsvWriteOptions, type SortBy } from '../../lib/index.js';
import { fuseTextRows } from '../../lib/pipeline/fuse-text-rows.js';
import { openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';
import { countingTextRows, textOutcome, type TextOutcome } from '../helpers/text-documents.js';

const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) });

/** Few distinct keys (ties), some multi-byte, some quoted. */
const key = fc.constantFrom('a', 'b', 'B', 'é', '😀', '', '10', '9');
const plain = fc.string({ unit: fc.constantFrom('x', 'y', ' ', 'é', '€', '|'), maxLength: 4 });
const quoted = fc.string({ unit: fc.constantFrom('x', ',', '"', '\n', 'é'), maxLength: 4 }).map((s) => `"${s.replaceAll('"', '""')}"`);
const field = fc.oneof({ arbitrary: plain, weight: 10 }, { arbitrary: quoted, weight: 1 });
const line = fc.tuple(key, key, field, field, fc.integer({ min: 0, max: 14 }), fc.constantFrom('\n', '\n', '\r\n'));
const document = fc.array(line, { minLength: 1, maxLength: 120 }).map((lines) =>
  Buffer.from(`k,j,c,d\n${lines.map(([k, j, c, d, ragged, eol]) => (ragged === 0 ? [k, j, c] : [k, j, c, d]).join(',') + eol).join('')}`),
);
/** Column 5 is past every row's end (its key is undefined, for text rows as for arrays). */
const orders: SortBy<string[]>[] = [0, [0, 1], [{ key: 1, order: 'desc' }, 0], [{ key: 2 }, { key: 0, order: 'desc' }], [5, 1]];

describe('sort() of rows passed as their text (csv.read → sort(columns) → csv.write)', function () {
  this.timeout(scaledTimeout);
  let dir: TempDir;
  let n = 0;
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  const outcome = (input: string, read: CsvReadOptions, write: CsvWriteOptions, by: SortBy<string[]>, memory: number, fused: boolean): Promise<TextOutcome> =>
    textOutcome(input, dir.file(`out-${n++}.csv`), read, write, sort<string[]>(by, { memory, maxOpenFiles: 2, tmpDir: dir.path }), fused);

  it('writes the same bytes, summary, rejects and errors as unfused, in memory and spilled in many runs (property)', async () => {
    const textRows = await countingTextRows(() =>
      fc.assert(
        fc.asyncProperty(
          document,
          fc.integer({ min: 16, max: 256 }),
          fc.constantFrom<CsvReadOptions>({}, { ragged: 'reject' }, { ragged: 'keep' }),
          fc.constantFrom<CsvWriteOptions>({}, { delimiter: ';' }, { quoteColumns: true }),
          fc.constantFrom(...orders),
          fc.constantFrom(300, 2_000, 1 << 20),
          async (bytes, chunkSize, read, write, by, memory) => {
            const input = await dir.write(`in-${n++}.csv`, bytes);
            const options = { ...read, chunkSize };
            const fused = await outcome(input, options, write, by, memory, true);
            expect(fused).to.deep.equal(await outcome(input, options, write, by, memory, false));
          },
        ),
        runs(100),
      ),
    );
    expect(textRows).to.be.greaterThan(10 * scale);
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('sorts a large file of plain rows as text, spilling, stable, the lines copied byte for byte', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${(i * 7919) % 97},row ${i},é${i % 13}`);
    const input = await dir.write('large.csv', `a,b,c\r\n${lines.join('\r\n')}\r\n`);
    const expected = lines.map((l, i) => ({ l, i, k: l.split(',')[0]! })).sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : x.i - y.i)).map((x) => x.l);
    const fused = await outcome(input, {}, {}, 0, 64 * 1024, true);
    expect(fused.text).to.equal(`${expected.join('\n')}\n`);
    expect(fused).to.deep.equal(await outcome(input, {}, {}, 0, 64 * 1024, false));
  });

  it('fuses only a sort by column indexes, before it takes a row', () => {
    // (csv.write to a stream: a file target would open its file, which could outlive the test.)
    const fuses = (by: SortBy<string[]>) => fuseTextRows(csv.read('in.csv'), [sort(by), csv.write(new PassThrough())]);
    expect(fuses(7)).to.equal(true);
    expect(fuses([{ key: 7, order: 'desc', compare: (a: string, b: string) => a.length - b.length }, 0])).to.equal(true);
    expect(fuses((row) => row[7])).to.equal(false);
    expect(fuses([7, (row) => row[0]])).to.equal(false);
    expect(fuseTextRows(csv.read('in.csv', { rows: 'objects' }), [sort('Plate ID'), csv.write(new PassThrough())])).to.equal(false);
    expect(fuseTextRows(csv.read('in.csv'), [sort(7), tap(() => {}), csv.write(new PassThrough())])).to.equal(false);
  });
});
