import { expect } from 'chai';
import fc from 'fast-check';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RowError, agg, groupBy, type Aggregations } from '../../lib/index.js';
import { RowBatch } from '../../lib/core/row-batch.js';
import { setOrigin } from '../../lib/core/origin.js';
import { spillDirPerSuite } from '../helpers/files.js';
import { collect, rejectionOf } from '../helpers/streams.js';

/** The rows one at a time, as a non-sluice source writes them. */
async function byRow(rows: unknown[], stage: Duplex): Promise<unknown[]> {
  const sink = collect();
  await pipeline(Readable.from(rows, { objectMode: true }), stage, sink);
  return sink.rows;
}

/** The rows in batches of `sizes` (cycled), as a csv source hands them to the stage after it. */
async function byBatch(rows: unknown[], sizes: number[], stage: Duplex): Promise<unknown[]> {
  const batches: RowBatch[] = [];
  for (let i = 0, b = 0; i < rows.length; b++) {
    const n = sizes[b % sizes.length]!;
    batches.push(new RowBatch(rows.slice(i, i + n)));
    i += n;
  }
  const sink = collect();
  await pipeline(Readable.from(batches, { objectMode: true }), stage, sink);
  return sink.rows;
}

describe('groupBy(): rows in batches (a csv source) and one-value keys', () => {
  const tmp = spillDirPerSuite('sluice-group-batch-test-');
  // Keys whose identities could meet if a string key were taken as itself carelessly: strings
  // that start with U+0001 or look like another type's identity, beside those types.
  const key = fc.oneof(
    fc.constantFrom('a', 'b', '', '\u0001', '\u0001n1;', '\u0001s1:a', 's1:a', 'n1;', 'z', null, 1, '1', 2n, true, -0),
    // Read back from the table's codes: lone surrogates, and keys past the short ones made by a loop.
    fc.constantFrom('\ud800', 'x\udc00y', 'é', '😀', 'twelve-units', 'thirteen-unit', '😀😀😀😀😀😀😀', 'a key much longer than twelve units'),
    fc.string({ maxLength: 3 }),
    fc.integer({ min: 0, max: 40 }).map((i) => `k${i}`),
  );
  const row = fc.tuple(key, fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant('')));
  const slotted: Aggregations<unknown[]> = { n: agg.count(), total: agg.sum(1), mean: agg.avg(1) };
  const heaped: Aggregations<unknown[]> = { n: agg.count(), total: agg.sum(1), first: agg.first(1), last: agg.last(1) };

  it('gives the same groups, in the same order, as row by row: in memory and spilled mid-batch, off the heap and in a Map (property)', async () => {
    let spilled = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(row, { maxLength: 400 }), fc.integer({ min: 100, max: 20_000 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }), fc.boolean(),
      async (rows, memory, sizes, offHeap) => {
        const aggregations = offHeap ? slotted : heaped;
        const options = { memory, tmpDir: tmp.path, output: 'array' } as const;
        const expected = await byRow(rows, groupBy(0, aggregations, options));
        // Every key comes back exactly (read back from the table's codes, or from its record), once.
        const keys = new Map<unknown, number>(rows.map(([k]) => [k, 0]));
        for (const [k] of expected as unknown[][]) keys.set(k, keys.get(k)! + 1);
        expect([...keys.values()].every((n) => n === 1)).to.equal(true);
        expect(expected).to.have.length(keys.size);
        const stage = groupBy(0, aggregations, options);
        expect(await byBatch(rows, sizes, stage)).to.deep.equal(expected);
        if ((stage as unknown as { partitionsSpilled: number }).partitionsSpilled > 0) spilled++;
        // A key function of one value takes the same one-value path; a two-column key the other.
        expect(await byBatch(rows, sizes, groupBy((r: unknown[]) => r[0], aggregations, options))).to.deep.equal(expected);
        const pairs = rows.map(([k, v]) => [k, v, typeof k]);
        expect(await byBatch(pairs, sizes, groupBy([0, 2], aggregations, options))).to.deep.equal(await byRow(pairs, groupBy([0, 2], aggregations, options)));
      },
    ), { numRuns: 80 });
    expect(spilled).to.be.greaterThan(10); // the batches were cut by partition writes, not only held
  });

  it('keeps apart keys that an identity of the bare string would confuse', async () => {
    const rows = [['\u0001n1;', 1], [1, 2], ['1', 3], ['\u0001', 4], ['', 5], [null, 6], ['\u0001s1:a', 7], ['a', 8], [1, 9]];
    const out = await byBatch(rows, [4], groupBy(0, { n: agg.count(), total: agg.sum(1) }, { output: 'array' }));
    expect(out).to.deep.equal([['\u0001n1;', 1, 1], [1, 2, 11], ['1', 1, 3], ['\u0001', 1, 4], ['', 1, 5], [null, 1, 6], ['\u0001s1:a', 1, 7], ['a', 1, 8]]);
  });

  it('fails on the row of a batch whose key throws, naming it and its line', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => {
      const r = [`k${i % 4}`, i];
      setOrigin(r, { source: 'in.csv', line: i + 2 });
      return r;
    });
    const stage = groupBy((r: unknown[]) => {
      if (r[1] === 17) throw new Error('bad key');
      return r[0];
    }, { n: agg.count() }, { memory: 2000, tmpDir: tmp.path });
    const error = await rejectionOf(byBatch(rows, [8], stage));
    expect(error).to.be.instanceOf(RowError);
    expect(error.message).to.equal('groupBy() failed on row 18 (in.csv, line 19): bad key');
    expect(error).to.include({ row: 18, source: 'in.csv', line: 19 });
  });
});
