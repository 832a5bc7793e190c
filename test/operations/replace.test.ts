import { expect } from 'chai';
import { RejectLimitError, RowError, pipe, replace, run, type Reject } from '../../lib/index.js';
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

describe('replace()', () => {
  describe('behaviour', () => {
    it('swaps the values found in an object table and keeps the others (array rows, by index)', async () => {
      const sink = collect<unknown[]>();
      const summary = await runAccounted([['A1', 'P'], ['B2', 'T'], ['C3', 'X']], replace(1, { P: 'police', T: 'traffic' }), sink);
      expect(sink.rows).to.deep.equal([['A1', 'police'], ['B2', 'traffic'], ['C3', 'X']]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('uses a Map, whose keys need not be strings (object rows, by name)', async () => {
      const sink = collect<Row>();
      await runAccounted([{ code: 1 }, { code: 2 }, { code: '1' }], replace('code', new Map<unknown, unknown>([[1, 'one'], [2, null]])), sink);
      expect(sink.rows).to.deep.equal([{ code: 'one' }, { code: null }, { code: '1' }]);
    });

    it('uses a function of the value and the row', async () => {
      const sink = collect<Row>();
      await runAccounted([{ amount: '12.50', unit: 'cents' }, { amount: '3', unit: 'dollars' }], replace('amount', (value, row) => Number(value) * ((row as Row).unit === 'dollars' ? 100 : 1)), sink);
      expect(sink.rows).to.deep.equal([{ amount: 12.5, unit: 'cents' }, { amount: 300, unit: 'dollars' }]);
    });

    it("does not treat the table's inherited properties as entries", async () => {
      const sink = collect<Row>();
      await runAccounted([{ v: 'constructor' }, { v: 'toString' }, { v: '__proto__' }], replace('v', {}), sink);
      expect(sink.rows).to.deep.equal([{ v: 'constructor' }, { v: 'toString' }, { v: '__proto__' }]);
    });

    it('copies each row; the input rows are not changed', async () => {
      const input = [{ s: 'NJ', n: 1 }];
      const sink = collect<Row>();
      await runAccounted(input, replace('s', { NJ: 'New Jersey' }), sink);
      expect(input).to.deep.equal([{ s: 'NJ', n: 1 }]);
      expect(sink.rows).to.deep.equal([{ s: 'New Jersey', n: 1 }]);
    });

    it('handles empty input; names itself after the column', async () => {
      const stage = replace('state', {});
      expect(stage.stage).to.equal('replace(state)');
      expect(counts(await runAccounted([], stage, collect()))).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps row order over many rows', async () => {
      const sink = collect<number[]>();
      await runAccounted(range(250).map((i) => [i % 2]), replace(0, new Map([[0, 'even'], [1, 'odd']])), sink);
      expect(sink.rows.map((r) => r[0])).to.deep.equal(range(250).map((i) => (i % 2 ? 'odd' : 'even')));
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16, onError fail', async () => {
      const stage = replace(0, {});
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      expect(await rejectionOf(run([[]], replace(0, {}), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for an invalid column, table or options', () => {
      const cases: [() => unknown, string][] = [
        [() => replace(-1, {}), 'replace(): expected `column` to be a column index (integer from 0) or a non-empty column name, got -1'],
        [() => replace('', {}), 'replace(): expected `column` to be a column index (integer from 0) or a non-empty column name, got ""'],
        [() => replace(0, 5 as never), 'replace(): expected `replacements` to be an object, a Map or a function, got 5'],
        [() => replace(0, null as never), 'replace(): expected `replacements` to be an object, a Map or a function, got null'],
        [() => replace(0, ['a'] as never), 'replace(): expected `replacements` to be an object, a Map or a function, got ["a"]'],
        [() => replace(0, {}, { highWaterMark: 1.5 }), 'replace(): expected `highWaterMark` to be an integer from 1 and up, got `1.5` (number)'],
        [() => replace(0, {}, { onError: 'warn' as never }), "replace(): expected `onError` to be 'fail', 'reject' or { replaceWith }, got `warn` (string)"],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the table or the options object', async () => {
      const table = Object.freeze({ a: 'A' });
      const options = Object.freeze({ highWaterMark: 2, onError: 'reject' as const });
      const summary = await runAccounted([['a'], []], replace(0, table, options), collect(), { rejects: () => {} });
      expect(table).to.deep.equal({ a: 'A' });
      expect(options).to.deep.equal({ highWaterMark: 2, onError: 'reject' });
      expectAccounted(summary);
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    it('stalled consumer: pulls exactly hs + 2h - 1 + hk rows', async () => {
      const held = await measureHeld(replace(0, { x: 'y' }, { highWaterMark: 2 }), { sourceHighWaterMark: 5, sinkHighWaterMark: 1, row: () => ['x'] });
      expect(held.pulled).to.equal(bound(5, 2, 1));
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(2), { sourceHighWaterMark: 5, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(5, 2, 1));
    });
  });

  describe('errors', () => {
    it('the first row lacks the column: RowError naming stage and row; every stage closed', async () => {
      const stage = replace('state', {});
      const sink = collect();
      const error = await rejectionOf(run([{ st: 'NJ' }], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('replace(state) failed on row 1: no column "state" in the row');
      expect(error.cause).to.be.instanceOf(RangeError);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a replacement function that throws on a middle row: cause is its error, earlier rows delivered', async () => {
      const original = new Error('not a number');
      const sink = collect();
      const parse = (value: unknown) => {
        if (value === 'x') throw original;
        return Number(value);
      };
      const error = await rejectionOf(run([['1'], ['2'], ['x'], ['4']], replace(0, parse), sink));
      expect(error.message).to.equal('replace(0) failed on row 3: not a number');
      expect(error.cause).to.equal(original);
      expect(sink.rows).to.deep.equal([[1], [2]]);
    });

    it("onError 'reject': rows go to rejects with reason, stage and index", async () => {
      const rejects: Reject[] = [];
      const sink = collect();
      const summary = await runAccounted([[1], [], [3]], replace(0, { 1: 'one' }, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([[1], [3]]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'replace(0)', reason: 'no column 0: the row has 0 column(s)', index: 2, row: [] },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 2, filtered: 0, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } value and function', async () => {
      const failing = () => {
        throw new Error('bad value');
      };
      const byValue = collect();
      await runAccounted([['a']], replace(0, failing, { onError: { replaceWith: ['?'] } }), byValue);
      expect(byValue.rows).to.deep.equal([['?']]);
      const byFunction = collect();
      const summary = await runAccounted([['a'], ['b']], replace(0, failing, { onError: { replaceWith: (row: unknown[]) => [...row, 'kept'] } }), byFunction);
      expect(byFunction.rows).to.deep.equal([['a', 'kept'], ['b', 'kept']]);
      expectAccounted(summary);
    });

    it('maxRejects exceeded: RejectLimitError; stages closed', async () => {
      const stage = replace(0, {}, { onError: 'reject' });
      const sink = collect();
      const error = await rejectionOf(run([[], [], []], stage, sink, { rejects: () => {}, maxRejects: 1 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal('more than 1 row(s) rejected; the last: replace(0) failed on row 2: no column 0: the row has 0 column(s)');
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject' without a rejects target: nothing receives rejects", async () => {
      const error = await rejectionOf(run([[]], replace(0, {}, { onError: 'reject' }), collect()));
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(replace(0, {}), (i) => [i]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((i) => [i]);
      const stage = replace(0, (v) => `#${String(v)}`);
      const seen: unknown[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 2) break;
      }
      expect(seen).to.deep.equal([['#1'], ['#2']]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
