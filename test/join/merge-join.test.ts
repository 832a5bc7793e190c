import { expect } from 'chai';
import fc from 'fast-check';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, RowError, mergeJoin, pipe, run, take, type JoinStage, type JoinType, type MergeJoinOptions } from '../../lib/index.js';
import { bag, nestedLoop, rowsArb, sortedByKey, typeArb, type Row } from '../helpers/join.js';
import { spillDirPerSuite } from '../helpers/files.js';
import { CountingSource, StalledSink, closed, collect, expectTypeErrors, quiesce, rejectionOf, trackedGenerator, turn } from '../helpers/streams.js';

const pairs = { merge: (l: unknown, r: unknown) => [l, r] };

async function joined<L, R>(left: L[], right: R[], options: MergeJoinOptions<L, R, unknown>): Promise<{ out: unknown[]; stage: JoinStage<L, unknown> }> {
  const stage = mergeJoin<L, R, unknown>(right, options);
  const sink = collect();
  await pipeline(Readable.from(left, { objectMode: true }), stage, sink);
  return { out: sink.rows, stage };
}

describe('mergeJoin()', () => {
  const tmp = spillDirPerSuite('sluice-join-test-');

  describe('behaviour', () => {
    it('joins sorted inputs: duplicates on both sides give the cross product, in key order', async () => {
      const left = [{ k: 1, a: 'x' }, { k: 2, a: 'y' }, { k: 2, a: 'z' }, { k: 4, a: 'w' }];
      const right = [{ k: 2, b: 'p' }, { k: 2, b: 'q' }, { k: 3, b: 'r' }, { k: 4, b: 's' }];
      const { out, stage } = await joined(left, right, { on: 'k' });
      expect(out).to.deep.equal([
        { k: 2, a: 'y', b: 'p' }, { k: 2, a: 'y', b: 'q' }, { k: 2, a: 'z', b: 'p' }, { k: 2, a: 'z', b: 'q' }, { k: 4, a: 'w', b: 's' },
      ]);
      expect(stage.metrics).to.deep.equal({
        left: { rows: 4, matched: 3, unmatched: 1, nullKeys: 0 },
        right: { rows: 4, matched: 3, unmatched: 1, nullKeys: 0 },
        output: 5,
      });
      expect(stage.stats).to.include({ in: 4, out: 5, filtered: 1 });
    });

    it('left, right and full keep unmatched rows with null columns; null keys never match', async () => {
      const left = [{ k: null, a: 'n' }, { k: 1, a: 'x' }, { k: 3, a: 'y' }];
      const right = [{ k: 1, b: 'p' }, { k: 2, b: 'q' }, { k: null, b: 'm' }];
      expect((await joined(left, right, { on: 'k', type: 'left' })).out).to.deep.equal([
        { k: null, a: 'n' }, { k: 1, a: 'x', b: 'p' }, { k: 3, a: 'y', b: null },
      ]);
      const full = await joined(left, right, { on: 'k', type: 'full' });
      expect(full.out).to.deep.equal([
        // A right row with a null key leaves as soon as it is read (here while looking for key 3).
        { k: null, a: 'n' }, { k: 1, a: 'x', b: 'p' }, { k: 2, a: null, b: 'q' }, { k: null, a: null, b: 'm' }, { k: 3, a: 'y', b: null },
      ]);
      expect(full.stage.metrics.right).to.deep.equal({ rows: 3, matched: 1, unmatched: 2, nullKeys: 1 });
      expect((await joined(left, right, { on: 'k', type: 'right' })).out).to.deep.equal([
        { k: 1, a: 'x', b: 'p' }, { k: 2, a: null, b: 'q' }, { k: null, a: null, b: 'm' },
      ]);
    });

    it('joins arrays by index ([...left, ...right]), with { left, right } keys and a typed comparator (5 is not "5")', async () => {
      const { out } = await joined([[1, 'a'], [5, 'b']], [['x', 5], ['y', '5']].sort(), { on: { left: 0, right: 1 }, type: 'left' });
      expect(out).to.deep.equal([[1, 'a', null, null], [5, 'b', 'x', 5]]);
    });

    it('a name clash fails naming the column, unless prefixes or a merge function are given', async () => {
      const left = [{ id: 1, name: 'a' }];
      const right = [{ id: 1, name: 'b' }];
      const error = await rejectionOf(joined(left, right, { on: 'id' }));
      expect(error.message).to.equal('mergeJoin(): column "name" is on both sides; give `prefix: { left, right }` or a `merge` function');
      expect((await joined(left, right, { on: 'id', prefix: { right: 'r_' } })).out).to.deep.equal([{ id: 1, name: 'a', r_name: 'b' }]);
      expect((await joined(left, right, { on: 'id', merge: (l, r) => `${l?.name}${r?.name}` })).out).to.deep.equal(['ab']);
    });

    it('equals a nested-loop join for random sorted inputs of every type (property)', async () => {
      await fc.assert(fc.asyncProperty(rowsArb('l'), rowsArb('r'), typeArb, async (l, r, type) => {
        const left = sortedByKey(l);
        const right = sortedByKey(r);
        const { out } = await joined(left, right, { on: 'k', type, ...pairs });
        expect(bag(out)).to.deep.equal(bag(nestedLoop(left, right, (x) => x.k, (x) => x.k, type)));
      }), { numRuns: 150 });
    });

    it('equals the reference when it must stop and go on anywhere: a right side that makes it wait, and an output of one row that a slow consumer drains (property)', async () => {
      await fc.assert(fc.asyncProperty(rowsArb('l'), rowsArb('r'), typeArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), async (l, r, type, waits) => {
        const [left, right] = [sortedByKey(l), sortedByKey(r)];
        // Right rows arrive after a turn of the event loop where `waits` says so (the join finds none buffered).
        async function* slowRight() {
          for (let i = 0; i < right.length; i++) {
            if (waits[i % waits.length]) await turn();
            yield right[i]!;
          }
        }
        const stage = mergeJoin<Row, Row, unknown>(slowRight, { on: 'k', type, highWaterMark: 1, ...pairs });
        const out: unknown[] = [];
        const slowSink = new Writable({ objectMode: true, highWaterMark: 1, write: (row, _e, done) => void turn().then(() => {
          out.push(row);
          done();
        }) });
        await pipeline(Readable.from(left, { objectMode: true }), stage, slowSink);
        expect(bag(out)).to.deep.equal(bag(nestedLoop(left, right, (x) => x.k, (x) => x.k, type)));
        expect(stage.metrics.output).to.equal(out.length);
      }), { numRuns: 80 });
    });

    it('with sortInputs, sorts both unsorted sides first (spilling under a tiny budget) and equals the reference (property)', async () => {
      await fc.assert(fc.asyncProperty(rowsArb('l', 80), rowsArb('r', 80), typeArb, async (left, right, type) => {
        const { out } = await joined(left, right, { on: 'k', type, sortInputs: { memory: 300, tmpDir: tmp.path }, ...pairs });
        expect(bag(out)).to.deep.equal(bag(nestedLoop(left, right, (x) => x.k, (x) => x.k, type)));
        const keys = out.map((p) => ((p as [Row | null, Row | null])[0] ?? (p as [Row | null, Row | null])[1])!.k).filter((k) => k !== null);
        expect(keys).to.deep.equal([...keys].sort((a, b) => a! - b!));
      }), { numRuns: 40 });
    });

    it('mergeJoin(left, right, options) is a source of the joined rows for run()', async () => {
      const sink = collect();
      const summary = await run(mergeJoin([{ k: 1, a: 1 }, { k: 2, a: 2 }], [{ k: 2, b: 3 }], { on: 'k', type: 'left' }), sink);
      expect(sink.rows).to.deep.equal([{ k: 1, a: 1, b: null }, { k: 2, a: 2, b: 3 }]);
      expect(summary.written).to.equal(2);
    });

    it('an empty side gives the other side unmatched (or nothing for inner)', async () => {
      expect((await joined([], [{ k: 1 }], { on: 'k', type: 'full', ...pairs })).out).to.deep.equal([[null, { k: 1 }]]);
      expect((await joined([{ k: 1 }], [], { on: 'k', type: 'inner' })).out).to.deep.equal([]);
    });
  });

  describe('options', () => {
    it('rejects invalid options with the documented messages', () => {
      expectTypeErrors([
        [() => mergeJoin([], { on: undefined as never }), 'mergeJoin(): expected `on` to be a column, a list of columns, a function or { left, right }, got `undefined` (undefined)'],
        [() => mergeJoin([], { on: -1 }), 'mergeJoin(): expected `on` to be a column index from 0 and up, a column name or a function, got `-1` (number)'],
        [() => mergeJoin([], { on: { left: 'a' } as never }), 'mergeJoin(): expected `on` to be a column, a list of columns, a function or { left, right }, got an object'],
        [() => mergeJoin([], { on: 'k', type: 'outer' as JoinType }), "mergeJoin(): expected `type` to be one of 'inner', 'left', 'right', 'full', got `outer` (string)"],
        [() => mergeJoin([], { on: 'k', maxGroupBytes: 0 }), "mergeJoin(): expected `maxGroupBytes` to be a byte count from 1 and up or a size such as '64MB', got `0` (number)"],
        [() => mergeJoin([], { on: 'k', prefix: { right: 1 as never } }), 'mergeJoin(): expected `prefix.right` to be a string, got `1` (number)'],
        [() => mergeJoin([], { on: 'k', sortInputs: { memory: 'lots' } }), "mergeJoin(): expected `sortInputs.memory` to be a byte count from 1 and up or a size such as '64MB', got `lots` (string)"],
        [() => mergeJoin('x.csv' as never, { on: 'k' }), 'mergeJoin(): expected `right` to be a source (a Readable, an iterable of rows or a generator), got string'],
        [() => mergeJoin(42 as never, { on: 'k' }), 'mergeJoin(): expected `right` to be a source (a Readable, an iterable of rows or a generator), got number'],
      ]);
    });

    it('does not mutate the options object', async () => {
      const options = Object.freeze({ on: 'k', type: 'left' as const, prefix: Object.freeze({ right: 'r_' }) });
      await joined([{ k: 1 }], [{ k: 1, v: 2 }], options);
      expect(options).to.deep.equal({ on: 'k', type: 'left', prefix: { right: 'r_' } });
    });
  });

  describe('out-of-order input and group bounds', () => {
    it('a left row out of order fails naming both row numbers and keys', async () => {
      const error = await rejectionOf(joined([{ k: 1 }, { k: 3 }, { k: 2 }], [{ k: 1 }], { on: 'k', ...pairs }));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('mergeJoin() failed on row 3: the left input is not sorted by the key: left row 3 (key 2) sorts before left row 2 (key 3)');
    });

    it('a right row out of order fails naming both right row numbers', async () => {
      const error = await rejectionOf(joined([{ k: 'z' }], [{ k: 'a' }, { k: 'c' }, { k: 'b' }], { on: 'k', ...pairs }));
      expect(error.message).to.equal('mergeJoin() failed on row 3: the right input is not sorted by the key: right row 3 (key "b") sorts before right row 2 (key "c")');
    });

    it('a key group larger than maxGroupBytes fails clearly instead of exhausting memory', async () => {
      const right = Array.from({ length: 100 }, (_, i) => ({ k: 1, pad: 'x'.repeat(100), i }));
      const error = await rejectionOf(joined([{ k: 1 }], right, { on: 'k', maxGroupBytes: 2000, ...pairs }));
      expect(error.message).to.match(/^mergeJoin\(\) failed on row \d+: the right rows of key 1 pass maxGroupBytes \(2000 bytes\) at right row \d+; raise maxGroupBytes, or use hashJoin/);
    });

    it('a key function that throws fails naming the side and row', async () => {
      const error = await rejectionOf(joined([{ k: 1 }], [{ k: 1 }, { k: 2 }], { on: { left: 'k', right: (r: { k: number }) => { if (r.k === 2) throw new Error('bad key'); return r.k; } }, ...pairs }));
      expect(error.message).to.equal('mergeJoin() failed on row 2: right row 2: bad key');
    });
  });

  describe('backpressure', () => {
    it('with a stalled consumer, reads both sides only a bounded amount ahead; the control (no consumer limit) reads all', async () => {
      const left = new CountingSource(100_000, { row: (i) => ({ k: i }) });
      const right = new CountingSource(100_000, { row: (i) => ({ k: i, v: i }) });
      const stage = mergeJoin(right, { on: 'k' });
      const sink = new StalledSink();
      const done = pipeline(left, stage, sink).catch(() => undefined);
      const pulled = await quiesce(() => left.pulled + right.pulled);
      expect(left.pulled).to.be.below(200);
      expect(right.pulled).to.be.below(200);
      expect(pulled).to.be.above(16);
      stage.destroy();
      await done;
      // Control: the same join drained gets every row through.
      const all = await pipe(new CountingSource(1000, { row: (i) => ({ k: i }) }), mergeJoin(new CountingSource(1000, { row: (i) => ({ k: i, v: i }) }), { on: 'k' })).toArray();
      expect(all).to.have.length(1000);
    });

    it('a long run of unmatched right rows (right join) is pushed under backpressure too', async () => {
      const right = new CountingSource(100_000, { row: (i) => ({ k: i }) });
      const stage = mergeJoin(right, { on: 'k', type: 'right' });
      const sink = new StalledSink();
      const done = pipeline(Readable.from([{ k: 1e9 }]), stage, sink).catch(() => undefined);
      await quiesce(() => right.pulled);
      expect(right.pulled).to.be.below(200);
      stage.destroy();
      await done;
    });
  });

  describe('errors, early stop and abort release both sources', () => {
    it('take(n) after it stops both sources early; generators finish', async () => {
      const left = trackedGenerator((i) => ({ k: i }));
      const right = trackedGenerator((i) => ({ k: i, v: i }));
      const summary = await run(left.source, mergeJoin(right.source, { on: 'k' }), take(5), collect());
      expect(summary.written).to.equal(5);
      expect(left.state.finallyRan).to.equal(true);
      expect(right.state.finallyRan).to.equal(true);
    });

    it('a right stream never read (the left side is empty) is still destroyed and closed', async () => {
      const right = new CountingSource(10);
      await run([], mergeJoin(right, { on: 'k' }), collect());
      expect(right.destroyed).to.equal(true);
      expect(right.pulled).to.equal(0);
      const failing = new CountingSource(10);
      const stage = mergeJoin(failing, { on: 'k' });
      stage.on('error', () => undefined);
      stage.destroy(new Error('gone'));
      await closed(stage);
      expect(failing.closed).to.equal(true);
    });

    it('an error in the right source fails the pipeline with it and releases the left', async () => {
      const left = trackedGenerator((i) => ({ k: i }));
      async function* right() {
        yield { k: 1 };
        throw new Error('right broke');
      }
      const error = await rejectionOf(run(left.source, mergeJoin(right, { on: 'k' }), collect()));
      expect(error.message).to.equal('right broke');
      expect(left.state.finallyRan).to.equal(true);
    });

    it('an error in the left source releases the right', async () => {
      const right = trackedGenerator((i) => ({ k: i }));
      async function* left() {
        yield { k: 1 };
        yield { k: 2 };
        throw new Error('left broke');
      }
      const error = await rejectionOf(run(left, mergeJoin(right.source, { on: 'k', ...pairs }), collect()));
      expect(error.message).to.equal('left broke');
      expect(right.state.finallyRan).to.equal(true);
    });

    it('a for await with break over pipe() cleans up both sides (sortInputs folders too)', async () => {
      const left = trackedGenerator((i) => ({ k: i % 7 }), 500);
      const right = trackedGenerator((i) => ({ k: i % 5, v: i }), 500);
      let n = 0;
      const stage = mergeJoin(right.source, { on: 'k', sortInputs: { memory: 2000, tmpDir: tmp.path }, ...pairs });
      for await (const row of pipe(left.source, stage)) {
        if (row && ++n === 3) break;
      }
      await closed(stage); // 'close' comes once both sides and both sorts are released
      expect(right.state.finallyRan).to.equal(true);
      expect(left.state.finallyRan).to.equal(true);
    });

    it('an abort fails with AbortError and releases the right; an aborted signal throws at once', async () => {
      const controller = new AbortController();
      const right = trackedGenerator((i) => ({ k: i }));
      const stage = mergeJoin(right.source, { on: 'k', signal: controller.signal });
      const done = run(trackedGenerator((i) => ({ k: i })).source, stage, new StalledSink());
      await quiesce(() => right.state.yielded);
      controller.abort();
      expect(await rejectionOf(done)).to.be.instanceOf(AbortError);
      expect(right.state.finallyRan).to.equal(true);
      expect(() => mergeJoin([], { on: 'k', signal: AbortSignal.abort() })).to.throw(AbortError);
    });
  });
});
