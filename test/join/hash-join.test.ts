import { expect } from 'chai';
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, RowError, hashJoin, pipe, run, take, type HashJoinOptions } from '../../lib/index.js';
import { spillIo } from '../../lib/spill/spill-folder.js';
import { bag, nestedLoop, typeArb, type Row } from '../helpers/join.js';
import { spillDirPerSuite } from '../helpers/files.js';
import { CountingSource, StalledSink, closed, collect, expectTypeErrors, quiesce, rejectionOf, trackedGenerator } from '../helpers/streams.js';

const pairs = { merge: (l: unknown, r: unknown) => [l, r] };

async function joined<L, R>(probe: L[], build: R[], options: HashJoinOptions<L, R, unknown>): Promise<{ out: unknown[]; stage: ReturnType<typeof hashJoin<L, R, unknown>> }> {
  const stage = hashJoin<L, R, unknown>(build, options);
  const sink = collect();
  await pipeline(Readable.from(probe, { objectMode: true }), stage, sink);
  return { out: sink.rows, stage };
}

/** Keys 0..30 (duplicates common), some null; unique ids. */
const sideArb = (side: string, maxLength: number) =>
  fc.array(fc.option(fc.integer({ min: 0, max: 30 }), { freq: 8 }), { maxLength }).map((keys) => keys.map((k, i): Row => ({ k, id: `${side}${i}` })));

describe('hashJoin()', () => {
  const tmp = spillDirPerSuite('sluice-hashjoin-test-');

  describe('behaviour', () => {
    it('joins in memory when the build side fits: probe order kept, each probe row followed by its matches', async () => {
      const probe = [{ k: 2, a: 'x' }, { k: 1, a: 'y' }, { k: 3, a: 'z' }, { k: 2, a: 'w' }];
      const build = [{ k: 1, b: 'p' }, { k: 2, b: 'q' }, { k: 2, b: 'r' }, { k: 4, b: 's' }];
      const { out, stage } = await joined(probe, build, { on: 'k', tmpDir: tmp.path });
      expect(out).to.deep.equal([
        { k: 2, a: 'x', b: 'q' }, { k: 2, a: 'x', b: 'r' }, { k: 1, a: 'y', b: 'p' }, { k: 2, a: 'w', b: 'q' }, { k: 2, a: 'w', b: 'r' },
      ]);
      expect(stage.spilled).to.equal(false);
      expect(stage.bytesSpilled).to.equal(0);
      expect(stage.metrics).to.deep.equal({
        left: { rows: 4, matched: 3, unmatched: 1, nullKeys: 0 },
        right: { rows: 4, matched: 3, unmatched: 1, nullKeys: 0 },
        output: 5,
      });
    });

    it('left/right/full keep unmatched rows; null keys never match (a null-key build row leaves after the probe rows, with the other unmatched build rows)', async () => {
      const probe = [{ k: null, a: 'n' }, { k: 1, a: 'x' }];
      const build = [{ k: 1, b: 'p' }, { k: null, b: 'm' }, { k: 5, b: 'q' }];
      const { out, stage } = await joined(probe, build, { on: 'k', type: 'full' });
      // By then the probe side's columns are known: the null-key build row gets them as null too.
      expect(out).to.deep.equal([{ k: null, a: 'n', b: null }, { k: 1, a: 'x', b: 'p' }, { k: null, a: null, b: 'm' }, { k: 5, a: null, b: 'q' }]);
      expect(stage.metrics.right).to.deep.equal({ rows: 3, matched: 1, unmatched: 2, nullKeys: 1 });
      expect((await joined(probe, build, { on: 'k', type: 'right' })).out).to.deep.equal([{ k: 1, a: 'x', b: 'p' }, { k: null, a: null, b: 'm' }, { k: 5, a: null, b: 'q' }]);
      expect((await joined(probe, build, { on: 'k', type: 'inner' })).stage.metrics.right).to.deep.equal({ rows: 3, matched: 1, unmatched: 2, nullKeys: 1 });
      expect((await joined(probe, build, { on: 'k', type: 'left' })).out).to.deep.equal([{ k: null, a: 'n', b: null }, { k: 1, a: 'x', b: 'p' }]);
    });

    it('wide rows of strings (past the native-write length of the spill format, ASCII or not) come back from a spill unchanged (property)', async () => {
      // Rows all ASCII (written natively as such) or not (through the UTF-8 check).
      const field = fc.oneof(fc.string({ unit: fc.constantFrom('a', ',', '"'), minLength: 30, maxLength: 40 }), fc.string({ unit: fc.constantFrom('a', 'é', '\u{1F600}'), minLength: 30, maxLength: 40 }));
      const wide = (side: string) => fc.array(fc.tuple(fc.integer({ min: 0, max: 29 }), fc.array(field, { minLength: 5, maxLength: 12 })), { minLength: 20, maxLength: 60 })
        .map((rows) => rows.map(([k, fields], i) => [String(k), `${side}${i}`, ...fields]));
      let spills = 0;
      await fc.assert(fc.asyncProperty(wide('l'), wide('r'), async (probe, build) => {
        // A budget that holds the largest key group (a key never splits), not the whole build side.
        const groups = new Map<string, number>();
        for (const r of build) groups.set(r[0]!, (groups.get(r[0]!) ?? 0) + 1);
        const { out, stage } = await joined(probe, build, { on: 0, memory: 6000 * Math.max(1, ...groups.values()), tmpDir: tmp.path, ...pairs });
        if (stage.spilled) spills++;
        expect(bag(out)).to.deep.equal(bag(nestedLoop(probe, build, (x) => x[0], (x) => x[0], 'inner')));
      }), { numRuns: 60 });
      expect(spills).to.be.greaterThan(10);
    });

    it('equals a nested-loop join for random inputs, in memory and with budgets forcing (nested) spills (property)', async () => {
      await fc.assert(fc.asyncProperty(sideArb('l', 150), sideArb('r', 150), typeArb, fc.constantFrom('tiny', 'some', 'all'), async (probe, build, type, budget) => {
        // A budget that holds the largest key group (a key never splits) but, when tiny, not the
        // whole build side; with some, part of the partitions stay in memory (a hybrid join).
        const groups = new Map<unknown, number>();
        for (const r of build) groups.set(r.k, (groups.get(r.k) ?? 0) + 1);
        const memory = budget === 'tiny' ? Math.max(600, 400 * Math.max(0, ...groups.values())) : budget === 'some' ? 5000 : '1MB';
        const { out, stage } = await joined(probe, build, { on: 'k', type, memory, tmpDir: tmp.path, ...pairs });
        expect(bag(out)).to.deep.equal(bag(nestedLoop(probe, build, (x) => x.k, (x) => x.k, type)));
        if (!stage.spilled) {
          // Probe order kept: the probe rows in the output appear in input order.
          const ids = out.map((p) => (p as [Row | null])[0]?.id).filter((id) => id !== undefined);
          expect(ids).to.deep.equal([...ids].sort((a, b) => Number(a!.slice(1)) - Number(b!.slice(1))));
        }
      }), { numRuns: 120 });
    });

    it('spills a build side larger than memory into a private folder, removed at the end', async () => {
      const build = Array.from({ length: 2000 }, (_, i) => ({ k: i, b: `b${i}` }));
      const probe = Array.from({ length: 3000 }, (_, i) => ({ k: 2999 - i, a: `a${i}` }));
      const { out, stage } = await joined(probe, build, { on: 'k', memory: '20kB', tmpDir: tmp.path });
      expect(stage.spilled).to.equal(true);
      expect(stage.bytesSpilled).to.be.above(0);
      expect(out).to.have.length(2000);
      expect(await readdir(tmp.path)).to.deep.equal([]);
    });

    it('a build side held encoded fits where its rows as objects would not: 20,000 CSV-like rows in 4MB', async () => {
      const build = Array.from({ length: 20_000 }, (_, i) => [`${1_000_000 + i}`, `${i % 200}.25`, '2018-01-12', 'card']);
      const probe = Array.from({ length: 100 }, (_, i) => [`${1_000_000 + i * 7}`, 'x']);
      const { out, stage } = await joined(probe, build, { on: 0, memory: '4MB', tmpDir: tmp.path, ...pairs });
      expect(stage.spilled).to.equal(false);
      expect(out).to.deep.equal(probe.map((row, i) => [row, build[i * 7]]));
    });

    it('past the budget only the largest partitions spill: the probe rows of those in memory are joined as they arrive', async () => {
      const build = Array.from({ length: 2000 }, (_, k) => ({ k, b: `b${k}` }));
      const probe = trackedGenerator((i) => ({ k: i - 1 }), 2000);
      const stage = hashJoin(build, { on: 'k', memory: '100kB', tmpDir: tmp.path, ...pairs });
      const seen: number[] = [];
      const rows: unknown[] = [];
      const sink = new Writable({ objectMode: true, write(row, _encoding, callback) {
        seen.push(probe.state.yielded);
        rows.push(row);
        callback();
      } });
      await pipeline(Readable.from(probe.source()), stage, sink);
      expect(stage.spilled).to.equal(true);
      expect(seen[0]).to.be.below(100);
      expect(bag(rows)).to.deep.equal(bag(build.map((b) => [{ k: b.k }, b])));
      expect(await readdir(tmp.path)).to.deep.equal([]);
    });

    it('unmatched build rows (right, full) leave in the order read, duplicate keys among them', async () => {
      const build = [{ k: 1, b: 'a' }, { k: 2, b: 'b' }, { k: 1, b: 'c' }, { k: 3, b: 'd' }, { k: 2, b: 'e' }];
      const { out } = await joined([{ k: 3 }], build, { on: 'k', type: 'right', ...pairs });
      expect(out).to.deep.equal([[{ k: 3 }, build[3]], ...[0, 1, 2, 4].map((i) => [null, build[i]])]);
    });

    it('one key with more build rows than memory fails clearly', async () => {
      const build = Array.from({ length: 200 }, (_, i) => ({ k: 7, b: i }));
      const error = await rejectionOf(joined([{ k: 7 }], build, { on: 'k', memory: 2000, tmpDir: tmp.path }));
      expect(error.message).to.equal('hashJoin(): the build rows of one hash partition still pass memory (2000 bytes) after 4 levels of partitioning: one key (such as 7) has too many rows; raise memory or use mergeJoin');
    });

    it('an empty build or probe side', async () => {
      expect((await joined([{ k: 1 }], [], { on: 'k', type: 'left', ...pairs })).out).to.deep.equal([[{ k: 1 }, null]]);
      expect((await joined([], [{ k: 1 }], { on: 'k', type: 'right', ...pairs })).out).to.deep.equal([[null, { k: 1 }]]);
    });
  });

  describe('options', () => {
    it('rejects invalid options with the documented messages', () => {
      expectTypeErrors([
        [() => hashJoin([], { on: 'k', memory: -5 }), "hashJoin(): expected `memory` to be a byte count from 1 and up or a size such as '64MB', got `-5` (number)"],
        [() => hashJoin([], { on: 'k', tmpDir: '' }), 'hashJoin(): expected `tmpDir` to be a folder path, got `` (string)'],
        [() => hashJoin([], { on: [] }), 'hashJoin(): expected `on` to be a column, a function or a non-empty list of columns, got an array of length 0'],
        [() => hashJoin([], { on: 'k', merge: 3 as never }), 'hashJoin(): expected `merge` to be a function, got `3` (number)'],
        [() => hashJoin(null as never, { on: 'k' }), 'hashJoin(): expected `build` to be a source (a Readable, an iterable of rows or a generator), got null'],
        [() => hashJoin(42 as never, { on: 'k' }), 'hashJoin(): expected `build` to be a source (a Readable, an iterable of rows or a generator), got number'],
        [() => hashJoin({} as never, { on: 'k' }), 'hashJoin(): expected `build` to be a source (a Readable, an iterable of rows or a generator), got object'],
      ]);
    });
  });

  describe('errors', () => {
    it('a key function that throws on a probe row fails naming the side and row', async () => {
      const error = await rejectionOf(joined([{ k: 1 }, { k: 2 }], [{ k: 1 }], { on: { left: (r: { k: number }) => { if (r.k === 2) throw new Error('no key'); return r.k; }, right: 'k' }, ...pairs }));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('hashJoin() failed on row 2: left row 2: no key');
    });

    it('a build row holding a value the spill format cannot hold (a function) fails naming the side and row', async () => {
      const error = await rejectionOf(joined([{ k: 1 }], [{ k: 1 }, { k: 2, f: () => 0 }], { on: 'k', ...pairs }));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('hashJoin() failed on row 2: right row 2: a function cannot be spilled to disk');
    });

    it('a full disk while spilling fails with a SpillError and removes the folder', async () => {
      const write = spillIo.write;
      spillIo.write = () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      try {
        const build = Array.from({ length: 500 }, (_, i) => ({ k: i }));
        const error = await rejectionOf(joined([{ k: 1 }], build, { on: 'k', memory: 2000, tmpDir: tmp.path }));
        expect(error.name).to.equal('SpillError');
        expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC');
      } finally {
        spillIo.write = write;
      }
    });
  });

  describe('backpressure', () => {
    it('with a stalled consumer the probe side is read only a bounded amount ahead', async () => {
      const probe = new CountingSource(100_000, { row: (i) => ({ k: i % 10 }) });
      const build = Array.from({ length: 10 }, (_, k) => ({ k, v: k }));
      const stage = hashJoin(build, { on: 'k' });
      const done = pipeline(probe, stage, new StalledSink()).catch(() => undefined);
      expect(await quiesce(() => probe.pulled)).to.be.within(17, 100);
      stage.destroy();
      await done;
    });

    it('a probe row with many matches waits for room between them (the output stays bounded)', async () => {
      const build = Array.from({ length: 5000 }, (_, i) => ({ k: 1, v: i }));
      const stage = hashJoin(build, { on: 'k' });
      const done = pipeline(Readable.from([{ k: 1 }]), stage, new StalledSink()).catch(() => undefined);
      expect(await quiesce(() => stage.metrics.output)).to.be.below(100);
      stage.destroy();
      await done;
    });
  });

  describe('early stop and abort release both sources and the folder', () => {
    it('take(n) after it stops an endless probe side (in memory); the build side was released once loaded', async () => {
      const probe = trackedGenerator((i) => ({ k: i % 50 }));
      const build = trackedGenerator((i) => ({ k: i, v: i }), 1000);
      const summary = await run(probe.source, hashJoin(build.source, { on: 'k' }), take(5), collect());
      expect(summary.written).to.equal(5);
      expect(probe.state.finallyRan).to.equal(true);
      expect(build.state.finallyRan).to.equal(true);
    });

    it('take(n) after a spilled join removes the folder', async () => {
      const probe = trackedGenerator((i) => ({ k: i % 1000 }), 3000);
      const build = trackedGenerator((i) => ({ k: i, v: i }), 1000);
      const stage = hashJoin(build.source, { on: 'k', memory: '4kB', tmpDir: tmp.path });
      const summary = await run(probe.source, stage, take(5), collect());
      expect(summary.written).to.equal(5);
      expect(stage.spilled).to.equal(true);
      expect(build.state.finallyRan).to.equal(true);
      await closed(stage);
      expect(await readdir(tmp.path)).to.deep.equal([]);
    });

    it('an error in the build source fails the pipeline and releases the probe', async () => {
      const probe = trackedGenerator((i) => ({ k: i }));
      async function* build() {
        yield { k: 1 };
        throw new Error('build broke');
      }
      expect((await rejectionOf(run(probe.source, hashJoin(build, { on: 'k' }), collect()))).message).to.equal('build broke');
      expect(probe.state.finallyRan).to.equal(true);
    });

    it('a break over pipe() after a spill removes the folder', async () => {
      const stage = hashJoin(Array.from({ length: 3000 }, (_, i) => ({ k: i })), { on: 'k', memory: '8kB', tmpDir: tmp.path, ...pairs });
      let n = 0;
      for await (const row of pipe(Array.from({ length: 3000 }, (_, i) => ({ k: i })), stage)) if (row && ++n === 10) break;
      await closed(stage);
      expect(await readdir(tmp.path)).to.deep.equal([]);
    });

    it('a probe side that fails while it is being partitioned (partition files open) fails the pipeline and removes the folder', async () => {
      async function* probe() {
        for (let i = 0; i < 2000; i++) yield { k: i, a: 'x'.repeat(50) };
        throw new Error('probe broke');
      }
      const stage = hashJoin(Array.from({ length: 2000 }, (_, i) => ({ k: i, b: 'y'.repeat(50) })), { on: 'k', memory: '64kB', tmpDir: tmp.path });
      expect((await rejectionOf(run(probe, stage, collect()))).message).to.equal('probe broke');
      expect(stage.spilled).to.equal(true);
      await closed(stage);
      expect(await readdir(tmp.path)).to.deep.equal([]);
    });

    it('an abort fails with AbortError and releases the build side', async () => {
      const controller = new AbortController();
      // A build side that gives 5 rows and then waits (a slow server).
      const build = new Readable({ objectMode: true, read() {} });
      for (let k = 1; k <= 5; k++) build.push({ k });
      const done = run([{ k: 1 }], hashJoin(build, { on: 'k', signal: controller.signal }), collect());
      await quiesce(() => build.readableLength);
      controller.abort();
      expect(await rejectionOf(done)).to.be.instanceOf(AbortError);
      expect(build.destroyed).to.equal(true);
    });
  });
});
