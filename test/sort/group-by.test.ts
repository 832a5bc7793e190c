import { expect } from 'chai';
import fc from 'fast-check';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, RowError, agg, distinct, groupBy, topN, type Reducer } from '../../lib/index.js';
import { readdir } from 'node:fs/promises';
import { spillDirPerSuite } from '../helpers/files.js';
import { collect, expectTypeErrors, rejectionOf, until } from '../helpers/streams.js';

async function through<T>(rows: T[], stage: Duplex): Promise<unknown[]> {
  const sink = collect();
  await pipeline(Readable.from(rows, { objectMode: true }), stage, sink);
  return sink.rows;
}

/** The in-memory reference: count, sum, min, max, first, last, countDistinct per key. */
function reference(rows: [string, number, string][]): Map<string, unknown[]> {
  const m = new Map<string, [string, number, string][]>();
  for (const r of rows) m.set(r[0], [...(m.get(r[0]) ?? []), r]);
  const out = new Map<string, unknown[]>();
  for (const [k, g] of m) {
    const ns = g.map((r) => r[1]);
    out.set(k, [k, g.length, ns.reduce((a, b) => a + b, 0), Math.min(...ns), Math.max(...ns), g[0]![2], g[g.length - 1]![2], new Set(g.map((r) => r[2])).size]);
  }
  return out;
}

const aggregations = {
  n: agg.count(), total: agg.sum(1), low: agg.min(1), high: agg.max(1), first: agg.first(2), last: agg.last(2), kinds: agg.countDistinct(2),
};

describe('groupBy()', () => {
  const tmp = spillDirPerSuite('sluice-group-test-');

  it('counts and sums per key as objects, first appearance order', async () => {
    const rows = [{ s: 'NY', fine: '65' }, { s: 'NJ', fine: '35' }, { s: 'NY', fine: '115' }];
    expect(await through(rows, groupBy('s', { tickets: agg.count(), fines: agg.sum('fine'), mean: agg.avg('fine') }))).to.deep.equal([
      { s: 'NY', tickets: 2, fines: 180, mean: 90 },
      { s: 'NJ', tickets: 1, fines: 35, mean: 35 },
    ]);
  });

  it('sums and averages numeric strings as Number reads them, skipping blank and non-numeric ones', async () => {
    const values = ['12', ' 7 ', '', '  ', '1e2', '-3', '0x10', '007', 'abc', '123456789', '1234567890', '1.5', '-0', '0'];
    const numbers = values.filter((v) => v.trim() !== '' && !Number.isNaN(Number(v))).map(Number);
    const expected = numbers.reduce((a, b) => a + b, 0);
    const out = await through(values.map((v) => ['k', v]), groupBy(0, { total: agg.sum(1), mean: agg.avg(1) }, { output: 'array' }));
    expect(out).to.deep.equal([['k', expected, expected / numbers.length]]);
    expect(numbers).to.have.length(11);
  });

  it('equals an in-memory reference, hashed within tiny budgets (spilling partitions) and sorted (property)', async () => {
    const row = fc.tuple(fc.constantFrom('a', 'b', 'c', 'é', '😀', '', 'x1', 'x2', 'x3', 'x4', 'x5'), fc.integer({ min: -50, max: 50 }), fc.constantFrom('p', 'q', 'r'));
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 200 }), fc.integer({ min: 100, max: 3000 }), async (rows, memory) => {
      const expected = reference(rows);
      const stage = groupBy(0, aggregations, { memory, tmpDir: tmp.path, output: 'array' });
      const hashed = (await through(rows, stage)) as unknown[][];
      expect(new Map(hashed.map((r) => [r[0] as string, r]))).to.deep.equal(expected);
      expect(hashed.length).to.equal(expected.size);
      const sortedRows = rows.map((r, i) => ({ r, i })).sort((x, y) => (x.r[0] < y.r[0] ? -1 : x.r[0] > y.r[0] ? 1 : x.i - y.i)).map((x) => x.r);
      const streamed = (await through(sortedRows, groupBy(0, aggregations, { sorted: true, output: 'array' }))) as unknown[][];
      expect(streamed).to.deep.equal([...reference(sortedRows).values()]);
    }), { numRuns: 60 });
  });

  it('holds count/sum/avg groups off the heap: equals the reference, with any key type, in memory and spilled (property)', async () => {
    // Only slotted reducers: the groups live in group-table.ts's typed arrays, not in a Map.
    const key = fc.oneof(fc.constantFrom('a', 'b', 'é', '😀', '', 'x1', 'x2', 'x3', 'x4', 'x5', null, 1, '1', 2n), fc.string({ maxLength: 4 }), fc.integer({ min: 0, max: 30 }));
    const row = fc.tuple(key, fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant('')));
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 300 }), fc.integer({ min: 100, max: 20_000 }), async (rows, memory) => {
      const expected = new Map<unknown, [number, number, number]>();
      for (const [k, v] of rows) {
        const g = expected.get(k) ?? [0, 0, 0];
        g[0]++;
        if (v !== '') {
          g[1] += v;
          g[2]++;
        }
        expected.set(k, g);
      }
      const out = (await through(rows, groupBy(0, { n: agg.count(), total: agg.sum(1), mean: agg.avg(1) }, { memory, tmpDir: tmp.path, output: 'array' }))) as unknown[][];
      // Keyed by type and value: chai pairs Map entries by sorting them, and null and '' print alike.
      const id = (k: unknown) => `${typeof k}:${String(k)}`;
      expect(new Map(out.map((r) => [id(r[0]), r.slice(1)]))).to.deep.equal(new Map([...expected].map(([k, [n, total, c]]) => [id(k), [n, total, c === 0 ? null : total / c]])));
      expect(out).to.have.length(expected.size);
    }), { numRuns: 60 });
  });

  it('holds 5,000 count/sum groups in a 32 kB budget through partitions', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i): [string, number] => [`plate-${(i * 7919) % 5_000}`, i % 10]);
    const stage = groupBy(0, { n: agg.count(), feet: agg.sum(1) }, { memory: 32 * 1024, tmpDir: tmp.path, output: 'array' });
    const out = (await through(rows, stage)) as [string, number, number][];
    expect(out).to.have.length(5_000);
    const expected = new Map<string, [number, number]>();
    for (const [k, v] of rows) expected.set(k, [(expected.get(k)?.[0] ?? 0) + 1, (expected.get(k)?.[1] ?? 0) + v]);
    expect(new Map(out.map(([k, n, feet]) => [k, [n, feet]]))).to.deep.equal(expected);
    expect((stage as unknown as { partitionsSpilled: number }).partitionsSpilled).to.be.greaterThan(0);
  });

  it('spills hash partitions when the groups outgrow the budget, and still gets first/last right', async () => {
    const rows = Array.from({ length: 2000 }, (_, i): [string, number, string] => [`k${i % 300}`, i, `v${i}`]);
    const stage = groupBy(0, aggregations, { memory: 20000, tmpDir: tmp.path, output: 'array' });
    const out = (await through(rows, stage)) as unknown[][];
    expect((stage as unknown as { partitionsSpilled: number }).partitionsSpilled).to.be.greaterThan(0);
    expect(new Map(out.map((r) => [r[0] as string, r]))).to.deep.equal(reference(rows));
  });

  it('counts countDistinct sets in the budget as they grow: past it, new keys spill, and the counts stay exact', async () => {
    // 60 keys, each first seen with 40 distinct values: the keys alone fit the budget, their sets do not.
    const rows = Array.from({ length: 4800 }, (_, i): [string, string] => [`k${Math.floor(i / 40) % 60}`, `v${i % 40}-${Math.floor(i / 2400)}`]);
    const expected = new Map<string, Set<string>>();
    for (const [k, v] of rows) expected.set(k, (expected.get(k) ?? new Set()).add(v));
    const distinctStage = groupBy(0, { n: agg.countDistinct(1) }, { memory: 40_000, tmpDir: tmp.path, output: 'array' });
    const out = (await through(rows, distinctStage)) as [string, number][];
    expect(new Map(out)).to.deep.equal(new Map([...expected].map(([k, set]) => [k, set.size])));
    expect((distinctStage as unknown as { partitionsSpilled: number }).partitionsSpilled).to.be.greaterThan(0);
    // The control: the same keys without a growing state fit, nothing spills.
    const countStage = groupBy(0, { n: agg.count() }, { memory: 40_000, tmpDir: tmp.path, output: 'array' });
    expect(await through(rows, countStage)).to.have.length(60);
    expect((countStage as unknown as { partitionsSpilled: number }).partitionsSpilled).to.equal(0);
  });

  it('partitions a partition again when its groups outgrow the budget (many keys, tiny budget)', async () => {
    const rows: [string, number, string][] = Array.from({ length: 3000 }, (_, i) => [`k${(i * 7919) % 1501}`, i % 7, `v${i % 5}`]);
    const stage = groupBy(0, aggregations, { memory: 8000, tmpDir: tmp.path, output: 'array' });
    const out = (await through(rows, stage)) as unknown[][];
    expect(new Map(out.map((r) => [r[0] as string, r]))).to.deep.equal(reference(rows));
    expect(out).to.have.length(1501);
    expect((stage as unknown as { deepestLevel: number }).deepestLevel).to.be.greaterThan(1);
  });

  it('sorted: true fails on out-of-order input naming both rows', async () => {
    const error = await rejectionOf(pipeline(Readable.from([['a'], ['b'], ['a']]), groupBy(0, { n: agg.count() }, { sorted: true }), collect()));
    expect(error).to.be.instanceOf(RowError);
    expect(error.message).to.equal('groupBy() failed on row 3: the input is not sorted by the key: row 3 sorts before row 2');
  });

  it('runs user reducers and multi-column keys', async () => {
    const longest: Reducer<string, string, string[]> = { init: () => '', add: (s, r) => (r[2]!.length > s.length ? r[2]! : s), result: (s) => s };
    const rows = [['NY', '14', 'ab'], ['NY', '14', 'abc'], ['NY', '21', 'a']];
    expect(await through(rows, groupBy([0, 1], { longest }))).to.deep.equal([{ key0: 'NY', key1: '14', longest: 'abc' }, { key0: 'NY', key1: '21', longest: 'a' }]);
  });

  it('rejects invalid arguments with the documented messages', () => {
    expectTypeErrors([
      [() => groupBy(-2, {}), 'groupBy(): expected `key` to be a column index from 0 and up, a column name or a function, got `-2` (number)'],
      [() => groupBy(0, { n: 5 as unknown as Reducer }), 'groupBy(): expected `aggregations.n` to be a reducer { init, add, result }, got `5` (number)'],
      [() => groupBy(0, {}, { output: 'csv' as 'array' }), "groupBy(): expected `output` to be one of 'object', 'array', got `csv` (string)"],
    ]);
  });
});

describe('topN()', () => {
  it('equals a stable sort then take(n) (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat())), fc.nat({ max: 10 }), async (rows, n) => {
      const expected = rows.map((r, i) => ({ r, i })).sort((a, b) => b.r[0] - a.r[0] || a.i - b.i).slice(0, n).map((x) => x.r);
      expect(await through(rows, topN(n, { key: 0, order: 'desc' }))).to.deep.equal(expected);
    }));
  });

  it('counts the rows it dropped as filtered', async () => {
    const stage = topN(2, 0);
    await through([[3], [1], [2], [0]], stage);
    expect(stage.stats).to.include({ in: 4, out: 2, filtered: 2 });
  });
});

describe('distinct()', () => {
  it('passes the first row of each key, or of each whole row', async () => {
    expect(await through([['a', 1], ['b', 2], ['a', 3]], distinct(0))).to.deep.equal([['a', 1], ['b', 2]]);
    expect(await through([1, '1', 1, 1n], distinct())).to.deep.equal([1, '1', 1n]);
    expect(await through([{ a: 1 }, { a: 1 }], distinct())).to.deep.equal([{ a: 1 }]);
  });
});

describe('groupBy(), topN(), distinct(): signal', () => {
  const tmp = spillDirPerSuite('sluice-group-abort-test-');
  const stages: [string, (signal: AbortSignal) => Duplex & { stats: { in: number } }][] = [
    ['groupBy (spilling)', (signal) => groupBy<number[]>(0, { n: agg.count() }, { memory: 20_000, tmpDir: tmp.path, signal })],
    ['topN', (signal) => topN<number[]>(3, 0, { signal })],
    ['distinct', (signal) => distinct<number[]>(0, { signal })],
  ];
  for (const [name, make] of stages) {
    it(`${name}: an abort mid-input fails with AbortError, leaves no listener and no folder; an aborted signal throws at once`, async () => {
      const controller = new AbortController();
      let listeners = 0;
      const add = controller.signal.addEventListener.bind(controller.signal);
      const remove = controller.signal.removeEventListener.bind(controller.signal);
      controller.signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add;
      controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => (listeners--, remove(...args))) as typeof remove;
      const stage = make(controller.signal);
      // An endless source that lets the event loop turn (a synchronous one would starve it).
      const source = Readable.from((async function* () {
        for (let i = 0; ; i++) {
          if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
          yield [i];
        }
      })());
      const done = rejectionOf(pipeline(source, stage, collect()));
      try {
        await until(() => stage.stats.in > 500, '500 rows in', 100_000);
      } finally {
        controller.abort(); // (also when the wait failed: the endless source must not outlive the test)
      }
      expect(await done).to.be.instanceOf(AbortError);
      expect(listeners).to.equal(0);
      expect(await readdir(tmp.path)).to.deep.equal([]);
      expect(() => make(controller.signal)).to.throw(AbortError);
    });
  }
});
