/**
 * Rows that pass through as their text (lib/pipeline/fuse-text-rows.ts, lib/core/text-row.ts):
 * `csv.read` → `addColumn(…, { reads })` → `csv.write` against the same pipeline unfused and
 * against `addColumn` given the whole row, on generated CSV files read in chunks of random
 * sizes — quotes, LF/CRLF/CR, multi-byte UTF-8, a byte-order mark, whitespace at field edges,
 * `|`, ragged rows — the same bytes written, the same summary, rejects and errors.
 * `SLUICE_PROPERTY_SCALE=10 npx mocha test/pipeline/fuse-text-rows.test.ts` runs 10× the cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { addColumn, csv, pipe, tap, type CsvReadOptions, type CsvWriteOptions, type Stage } from '../../lib/index.js';
import { fuseTextRows, textRowFusion } from '../../lib/pipeline/fuse-text-rows.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';
import { chunkSize, countingTextRows, textDocument, textOutcome, type TextOutcome } from '../helpers/text-documents.js';

const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) });

const writeOptions: CsvWriteOptions[] = [{}, { delimiter: ';' }, { quoteColumns: true }, { headers: ['a', 'b', 'c', 'd', 'n'] }, { formatter: 'fast-csv' }];

/** The number the function computes from two fields (it throws on one, when asked). */
function compute(a: string | undefined, b: string | undefined, throwOn: string | null): string {
  if (throwOn !== null && a === throwOn) throw new RangeError(`bad field: ${JSON.stringify(a)}`);
  return `${a?.length ?? -1}:${b ?? ''}`;
}

describe('rows that pass through as their text (csv.read → addColumn({ reads }) → csv.write)', function () {
  this.timeout(scaledTimeout);
  let dir: TempDir;
  let n = 0;
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  /** The pipeline's outcome: `reads` given (fused unless `fused` is false), or the row given to the function. */
  function outcome(input: string, read: CsvReadOptions, write: CsvWriteOptions, reads: boolean, fused: boolean, throwOn: string | null): Promise<TextOutcome> {
    const stage = reads
      ? addColumn('n', ([a, b]: (string | undefined)[]) => compute(a, b, throwOn), { reads: [2, 0] })
      : addColumn('n', (row: string[]) => compute(row[2], row[0], throwOn));
    return textOutcome(input, dir.file(`out-${n++}.csv`), read, write, stage, fused);
  }

  it('writes the same bytes, summary, rejects and errors as unfused and as addColumn given the row', async () => {
    const textRows = await countingTextRows(async () => {
      await fc.assert(
        fc.asyncProperty(
          textDocument,
          chunkSize,
          fc.constantFrom<CsvReadOptions>({}, { ragged: 'reject' }, { header: false }, { ragged: 'keep' }),
          fc.constantFrom(...writeOptions),
          fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: fc.constantFrom('a', 'b', '1'), weight: 1 }),
          async (bytes, chunkSize, read, write, throwOn) => {
            const input = await dir.write(`in-${n++}.csv`, bytes);
            // A sink failing on a ragged row and the source failing on a later one race (whichever
            // error comes first wins, fused or not): with a header of names, ragged rows are rejected or kept.
            const options = { ...read, ...(write.headers && read.ragged === undefined ? { ragged: 'reject' as const } : {}), chunkSize };
            const fused = await outcome(input, options, write, true, true, throwOn);
            expect(fused).to.deep.equal(await outcome(input, options, write, true, false, throwOn));
            expect(fused).to.deep.equal(await outcome(input, options, write, false, true, throwOn));
          },
        ),
        runs(150),
      );
    });
    // (The generated files are mostly rows of the header's width without quotes: many went as text.)
    expect(textRows).to.be.greaterThan(20 * scale);
  });

  it('copies a large file of plain rows byte for byte, the new field after each line', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i},name ${i},é${i % 7},${i % 3 === 0 ? '' : 'x'}`);
    const input = await dir.write('large.csv', `a,b,c,d\r\n${lines.join('\r\n')}\r\n`);
    const fused = await outcome(input, {}, {}, true, true, null);
    expect(fused.text).to.equal(`${lines.map((l) => `${l},${compute(l.split(',')[2], l.split(',')[0], null)}`).join('\n')}\n`);
    expect(fused).to.deep.equal(await outcome(input, {}, {}, false, true, null));
  });

  it('pipe() with csv.format() last: the same text, fused or not', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `${i},"q${i % 11 === 0 ? ',' : ''}",${i % 5 === 0 ? ' e' : 'e'},d`);
    const input = await dir.write('piped.csv', `a,b,c,d\n${lines.join('\n')}\n`);
    const text = async (fused: boolean) => {
      textRowFusion.enabled = fused;
      try {
        let out = '';
        for await (const piece of pipe(csv.read(input, { chunkSize: 4096 }), addColumn('n', ([c]: string[]) => c.length, { reads: [2] }), csv.format())) out += String(piece);
        return out;
      } finally {
        textRowFusion.enabled = true;
      }
    };
    const fused = await text(true);
    expect(fused).to.equal(await text(false));
    expect(fused.split('\n').slice(4, 6)).to.deep.equal(['4,q,e,d,1', '5,q," e",d,2']); // (a field with whitespace at an edge is quoted)
  });

  it('fuses only csv.read → addColumn with indexes in reads and failing on error → a CSV sink of sluice\'s formatter', async () => {
    const fuses = (read: CsvReadOptions, stage: Stage<never, unknown>, write: CsvWriteOptions = {}, between: Stage<never, unknown>[] = []) => {
      // (csv.write to a stream: a file target would open its file, which could outlive the test.)
      const streams = [csv.read(dir.file('none.csv'), read), ...between, stage, csv.write(new PassThrough(), write)];
      const fused = fuseTextRows(streams[0], streams.slice(1));
      for (const stream of streams) stream.destroy();
      return fused;
    };
    const reads = (options: object = {}) => addColumn('n', ([a]: string[]) => a, { reads: [0], ...options });
    expect(fuses({}, reads())).to.equal(true);
    expect(fuses({}, reads(), {}, [tap(() => {})])).to.equal(false);
    expect(fuses({}, addColumn('n', (row: string[]) => row[0]))).to.equal(false);
    expect(fuses({}, addColumn('n', ([a]: string[]) => a, { reads: ['a'] }))).to.equal(false);
    expect(fuses({}, reads({ onError: 'reject' }))).to.equal(false);
    expect(fuses({ rows: 'objects' }, reads())).to.equal(false);
    expect(fuses({ columns: [0, 1] }, reads())).to.equal(false);
    expect(fuses({ trim: true }, reads())).to.equal(false);
    expect(fuses({}, reads(), { spreadsheetSafe: true })).to.equal(false);
    expect(fuses({}, reads(), { formatter: 'fast-csv' })).to.equal(false);
  });
});
