import { expect } from 'chai';
import { RejectLimitError, RowError, pipe, run, select, type Reject } from '../../lib/index.js';
import {
  closed,
  collect,
  counts,
  destroyMidStream,
  expectAccounted,
  ignoresBackpressure,
  measureHeld,
  range,
  rejectionOf,
  expectTypeErrors,
  trackedGenerator,
  until,
  runAccounted,
} from '../helpers/streams.js';

type Car = { plate: string; state: string; make: string };
const cars: Car[] = [
  { plate: 'A1', state: 'NJ', make: 'FORD' },
  { plate: 'B2', state: 'NY', make: 'HONDA' },
  { plate: 'C3', state: 'NJ', make: 'TOYOTA' },
];
const arrays = [
  ['A1', 'NJ', 'FORD', 'P'],
  ['B2', 'NY', 'HONDA', 'T'],
];

describe('select()', () => {
  describe('behaviour', () => {
    it('keeps array columns by index, in the given order', async () => {
      const sink = collect<unknown[]>();
      const summary = await runAccounted(arrays, select([3, 0, 1]), sink);
      expect(sink.rows).to.deep.equal([['P', 'A1', 'NJ'], ['T', 'B2', 'NY']]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('keeps object columns by name, in the given order', async () => {
      const sink = collect<Partial<Car>>();
      await runAccounted(cars, select(['make', 'plate']), sink);
      expect(sink.rows).to.deep.equal([
        { make: 'FORD', plate: 'A1' },
        { make: 'HONDA', plate: 'B2' },
        { make: 'TOYOTA', plate: 'C3' },
      ]);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['make', 'plate']);
    });

    it('builds new rows and leaves the input rows alone', async () => {
      const input = structuredClone(cars);
      const sink = collect<Partial<Car>>();
      await runAccounted(input, select(['state']), sink);
      expect(input).to.deep.equal(cars);
      expect(sink.rows[0]).to.not.equal(input[0]);
    });

    it('a column named __proto__ is copied as an own key without touching the prototype', async () => {
      const row = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
      const sink = collect<Record<string, unknown>>();
      // Cast: a loose Record<string, unknown>: select(['__proto__', 'a']) wants the names in the row type (the stage's row type would reject it).
      await runAccounted([row] as never[], select(['__proto__', 'a']), sink);
      const out = sink.rows[0];
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
      expect(Object.keys(out)).to.deep.equal(['__proto__', 'a']);
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it('handles empty input', async () => {
      const sink = collect();
      const summary = await runAccounted([], select([0]), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps order over many rows and names itself after its columns', async () => {
      const stage = select([1, 0]);
      expect(stage.stage).to.equal('select(1,0)');
      const sink = collect<number[]>();
      await runAccounted(range(200).map((i) => [i, -i]), stage, sink);
      expect(sink.rows).to.deep.equal(range(200).map((i) => [-i, i]));
      expect(stage.stats).to.deep.equal({ in: 200, out: 200, filtered: 0, rejected: 0 });
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16 on both sides, onError fail', async () => {
      const stage = select([0]);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      // Cast: a row lacking the column on purpose (the stage's row type would reject it).
      expect(await rejectionOf(run([{}] as never[], select(['a']), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for invalid columns and options', () => {
      const cases: [() => unknown, string][] = [
        [() => select([]), 'select(): expected `columns` to be a non-empty array of column indexes or names, got []'],
        [() => select('a' as never), 'select(): expected `columns` to be a non-empty array of column indexes or names, got "a"'],
        [() => select([0, -1]), 'select(): expected `columns[1]` to be a column index (integer from 0) or a non-empty column name, got -1'],
        [() => select(['' as never]), 'select(): expected `columns[0]` to be a column index (integer from 0) or a non-empty column name, got ""'],
        [() => select([0, 'a'] as never), 'select(): expected `columns` to be all indexes or all names, not a mix'],
        [() => select([0], null as never), 'select(): expected `options` to be an object, got `null`'],
        [() => select([0], { highWaterMark: 0 }), 'select(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
        [() => select([0], { onError: 'drop' as never }), "select(): expected `onError` to be 'fail', 'reject' or { replaceWith }, got `drop` (string)"],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the columns array or the options object', async () => {
      const columns = Object.freeze([2, 0]);
      const options = Object.freeze({ highWaterMark: 2, onError: Object.freeze({ replaceWith: ['?'] }) });
      const sink = collect<unknown[]>();
      await runAccounted([['a', 'b', 'c'], ['x']], select(columns as number[], options), sink);
      expect(sink.rows).to.deep.equal([['c', 'a'], ['?']]);
      expect(columns).to.deep.equal([2, 0]);
      expect(options).to.deep.equal({ highWaterMark: 2, onError: { replaceWith: ['?'] } });
    });
  });

  describe('backpressure', () => {
    // Sync: source buffer + input buffer (h, one row held) + output buffer (h) + sink.
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    for (const [hs, h, hk] of [[1, 1, 1], [3, 5, 2]]) {
      it(`stalled consumer (source ${hs}, stage ${h}, sink ${hk}): pulls exactly ${bound(hs, h, hk)} rows`, async () => {
        const held = await measureHeld(select([0], { highWaterMark: h }), { sourceHighWaterMark: hs, sinkHighWaterMark: hk, row: (i) => [i, 'x'] });
        expect(held.inSink).to.equal(hk);
        expect(held.pulled).to.equal(bound(hs, h, hk));
      });
    }

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(5), { sourceHighWaterMark: 3, sinkHighWaterMark: 2, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(3, 5, 2));
    });
  });

  describe('errors', () => {
    it('a row lacking a column on the first row: RowError naming stage and row; cause the RangeError', async () => {
      const stage = select([0, 2]);
      const sink = collect();
      const error = await rejectionOf(run([['a', 'b'], ['a', 'b', 'c']], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('select(0,2) failed on row 1: no column 2: the row has 2 column(s)');
      expect(error.cause).to.be.instanceOf(RangeError);
      expect(sink.rows).to.deep.equal([]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a middle row of the wrong kind or lacking a name: earlier rows delivered first', async () => {
      const sink = collect();
      // Cast: a row lacking the column on purpose (the stage's row type would reject it).
      const error = await rejectionOf(run([{ a: 1 }, { a: 2 }, { b: 3 }, { a: 4 }] as never[], select(['a']), sink));
      expect(error.message).to.equal('select(a) failed on row 3: no column "a" in the row');
      expect((error as RowError).row).to.equal(3);
      expect(sink.rows).to.deep.equal([{ a: 1 }, { a: 2 }]);
      // Cast: a row of the wrong kind on purpose (the stage's row type would reject it).
      const kind = await rejectionOf(run([[1], { 0: 1 }] as never[], select([0]), collect()));
      expect(kind.message).to.equal('select(0) failed on row 2: column 0 needs array rows, got an object');
      expect(kind.cause).to.be.instanceOf(TypeError);
    });

    it('an inherited property is not a column', async () => {
      const error = await rejectionOf(run([{ a: 1 }], select(['toString']), collect()));
      expect(error.message).to.equal('select(toString) failed on row 1: no column "toString" in the row');
    });

    it("onError 'reject': bad rows go to rejects with reason, stage and index; the summary counts them", async () => {
      const rejects: Reject[] = [];
      const sink = collect();
      // Cast: a row lacking the column on purpose (the stage's row type would reject it).
      const summary = await runAccounted([{ a: 1 }, { b: 2 }, { a: 3 }] as never[], select(['a'], { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([{ a: 1 }, { a: 3 }]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'select(a)', reason: 'no column "a" in the row', index: 2, row: { b: 2 } },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 2, filtered: 0, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } value and function', async () => {
      const byValue = collect();
      await runAccounted([[1, 2], [1]], select<(number | null)[]>([1], { onError: { replaceWith: [null] } }), byValue);
      expect(byValue.rows).to.deep.equal([[2], [null]]);
      const byFunction = collect();
      const summary = await runAccounted([[1, 2], [7]], select([1], { onError: { replaceWith: (row: unknown[]) => [`short row of ${row.length}`] } }), byFunction);
      expect(byFunction.rows).to.deep.equal([[2], ['short row of 1']]);
      expectAccounted(summary);
    });

    it('maxRejects exceeded: RejectLimitError; every stage closed', async () => {
      const stage = select(['a'], { onError: 'reject' });
      const sink = collect();
      // Cast: rows lacking the column on purpose (the stage's row type would reject it).
      const error = await rejectionOf(run([{}, {}, {}] as never[], stage, sink, { rejects: () => {}, maxRejects: 2 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal('more than 2 row(s) rejected; the last: select(a) failed on row 3: no column "a" in the row');
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject' without a rejects target: nothing receives rejects", async () => {
      // Cast: a row lacking the column on purpose (the stage's row type would reject it).
      const error = await rejectionOf(run([{}] as never[], select(['a'], { onError: 'reject' }), collect()));
      expect(error.message).to.equal(
        'select(a) failed on row 1: no column "a" in the row — the row was to be rejected, but nothing receives rejects ' +
          "(pass `rejects` to run() or listen for 'reject' on the stage)",
      );
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events, error } = await destroyMidStream(select([0]), (i) => [i]);
      expect(error?.message).to.equal('Premature close');
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((i) => ({ id: i, extra: true }));
      const stage = select(['id']);
      const seen: unknown[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 2) break;
      }
      expect(seen).to.deep.equal([{ id: 1 }, { id: 2 }]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
