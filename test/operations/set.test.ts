import { expect } from 'chai';
import { RejectLimitError, RowError, pipe, run, set, type Reject } from '../../lib/index.js';
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

type Row = Record<string, unknown>;

describe('set()', () => {
  describe('behaviour', () => {
    it('overwrites an existing array column with a value', async () => {
      const sink = collect<unknown[]>();
      const summary = await runAccounted([['A1', 'P'], ['B2', 'T']], set(1, 'police'), sink);
      expect(sink.rows).to.deep.equal([['A1', 'police'], ['B2', 'police']]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('appends at index = row length, and adds a new object column', async () => {
      const arrays = collect<unknown[]>();
      await runAccounted([['a'], ['b', 'c']], set(1, 'x'), arrays);
      expect(arrays.rows).to.deep.equal([['a', 'x'], ['b', 'x']]);
      const objects = collect<Row>();
      await runAccounted([{ a: 1 }], set('b', 2), objects);
      expect(objects.rows).to.deep.equal([{ a: 1, b: 2 }]);
    });

    it('computes the value with fn(row, index), index 1-based as documented', async () => {
      const sink = collect<Row>();
      await runAccounted([{ house: '1', street: 'MAIN ST' }, { house: '7', street: 'OAK AVE' }], set('address', (row: Row, index: number) => `${index}: ${String(row.house)} ${String(row.street)}`), sink);
      expect(sink.rows.map((r) => r.address)).to.deep.equal(['1: 1 MAIN ST', '2: 7 OAK AVE']);
    });

    it('copies each row; the input is not changed', async () => {
      const input = [{ a: 1 }];
      const sink = collect<Row>();
      await runAccounted(input, set('a', 2), sink);
      expect(input).to.deep.equal([{ a: 1 }]);
      expect(sink.rows).to.deep.equal([{ a: 2 }]);
    });

    it('a column named __proto__ becomes an own key', async () => {
      const sink = collect<Row>();
      await runAccounted([{ a: 1 }], set('__proto__', { polluted: true }), sink);
      expect(Object.getPrototypeOf(sink.rows[0])).to.equal(Object.prototype);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['a', '__proto__']);
      expect(({} as Row).polluted).to.equal(undefined);
    });

    it('handles empty input; names itself after the column; keeps order', async () => {
      const stage = set(0, 'x');
      expect(stage.stage).to.equal('set(0)');
      expect(counts(await runAccounted([], stage, collect()))).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
      const sink = collect<number[]>();
      await runAccounted(range(100).map((i) => [i, 0]), set(1, (row: number[]) => row[0] * 2), sink);
      expect(sink.rows).to.deep.equal(range(100).map((i) => [i, i * 2]));
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16, onError fail', async () => {
      const stage = set(0, 1);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      expect(await rejectionOf(run([{}], set(0, 1), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for an invalid column or options', () => {
      const cases: [() => unknown, string][] = [
        [() => set(1.5, 1), 'set(): expected `column` to be a column index (integer from 0) or a non-empty column name, got 1.5'],
        [() => set('', 1), 'set(): expected `column` to be a column index (integer from 0) or a non-empty column name, got ""'],
        [() => set(null as never, 1), 'set(): expected `column` to be a column index (integer from 0) or a non-empty column name, got null'],
        [() => set('a', 1, 7 as never), 'set(): expected `options` to be an object, got `7` (number)'],
        [() => set('a', 1, { highWaterMark: '4' as never }), 'set(): expected `highWaterMark` to be an integer from 1 and up, got `4` (string)'],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the options object', async () => {
      const options = Object.freeze({ highWaterMark: 1, onError: Object.freeze({ replaceWith: ['fallback'] }) });
      const sink = collect();
      // Cast: a row of the wrong kind on purpose (the stage's row type would reject it).
      await runAccounted([['a'], {}] as never[], set(0, 'z', options), sink);
      expect(sink.rows).to.deep.equal([['z'], ['fallback']]);
      expect(options).to.deep.equal({ highWaterMark: 1, onError: { replaceWith: ['fallback'] } });
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    it('stalled consumer: pulls exactly hs + 2h - 1 + hk rows', async () => {
      const held = await measureHeld(set(0, 'x', { highWaterMark: 6 }), { sourceHighWaterMark: 1, sinkHighWaterMark: 2, row: (i) => [i] });
      expect(held.pulled).to.equal(bound(1, 6, 2));
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(6), { sourceHighWaterMark: 1, sinkHighWaterMark: 2, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(1, 6, 2));
    });
  });

  describe('errors', () => {
    it('the first row is of the wrong kind: RowError naming stage and row; stages closed', async () => {
      const stage = set(0, 'x');
      const sink = collect();
      const error = await rejectionOf(run([{ a: 1 }], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('set(0) failed on row 1: set(0) needs array rows, got an object');
      expect(error.cause).to.be.instanceOf(TypeError);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a middle row too short to set the index: earlier rows delivered', async () => {
      const sink = collect();
      const error = await rejectionOf(run([[1, 2, 3], [1]], set(2, 'x'), sink));
      expect(error.message).to.equal('set(2) failed on row 2: cannot set column 2: the row has 1 column(s)');
      expect(error.cause).to.be.instanceOf(RangeError);
      expect(sink.rows).to.deep.equal([[1, 2, 'x']]);
    });

    it('a value function that throws: its error is the cause', async () => {
      const original = new Error('no address');
      const error = await rejectionOf(run([{ a: 1 }], set('b', () => {
        throw original;
      }), collect()));
      expect(error.message).to.equal('set(b) failed on row 1: no address');
      expect(error.cause).to.equal(original);
    });

    it("onError 'reject': rows go to rejects; the summary counts them", async () => {
      const rejects: Reject[] = [];
      const sink = collect();
      const summary = await runAccounted([{ a: 1 }, [1], { a: 3 }], set('b', 0, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([{ a: 1, b: 0 }, { a: 3, b: 0 }]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'set(b)', reason: 'set(b) needs object rows, got an array', index: 2, row: [1] },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 2, filtered: 0, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } with a function', async () => {
      const sink = collect();
      const summary = await runAccounted([[], ['a']], set(1, 'x', { onError: { replaceWith: (row: unknown[]) => [...row, 'short'] } }), sink);
      expect(sink.rows).to.deep.equal([['short'], ['a', 'x']]);
      expectAccounted(summary);
    });

    it('maxRejects exceeded: RejectLimitError; stages closed', async () => {
      const stage = set(5, 'x', { onError: 'reject' });
      const error = await rejectionOf(run([[], []], stage, collect(), { rejects: () => {}, maxRejects: 1 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(stage.closed).to.equal(true);
    });

    it("onError 'reject' without a rejects target: nothing receives rejects", async () => {
      const error = await rejectionOf(run([[]], set(5, 'x', { onError: 'reject' }), collect()));
      expect(error.message).to.contain('set(5) failed on row 1');
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(set(0, 'x'), (i) => [i]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((i) => ({ i }));
      const stage = set('seen', true);
      for await (const row of pipe(gen.source, stage)) {
        expect(row).to.deep.equal({ i: 1, seen: true });
        break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
