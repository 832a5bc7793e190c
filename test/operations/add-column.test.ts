import { expect } from 'chai';
import { RejectLimitError, RowError, addColumn, pipe, run, type Reject } from '../../lib/index.js';
import {
  ControlledCalls,
  closed,
  collect,
  quiesce,
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
const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000;

describe('addColumn()', () => {
  describe('behaviour', () => {
    it('appends the computed value to array rows', async () => {
      const sink = collect<unknown[]>();
      const summary = await runAccounted([['2024-01-01', '2024-01-31'], ['2024-03-01', '2024-03-02']], addColumn('days', (row: string[]) => daysBetween(row[0], row[1])), sink);
      expect(sink.rows).to.deep.equal([['2024-01-01', '2024-01-31', 30], ['2024-03-01', '2024-03-02', 1]]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('adds the value under its name to object rows, last', async () => {
      const sink = collect<Row>();
      await runAccounted([{ a: 2, b: 3 }], addColumn('sum', (row: { a: number; b: number }) => row.a + row.b), sink);
      expect(sink.rows).to.deep.equal([{ a: 2, b: 3, sum: 5 }]);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['a', 'b', 'sum']);
    });

    it('passes { signal, index } to compute', async () => {
      const sink = collect<unknown[]>();
      await runAccounted([['x'], ['y']], addColumn('n', (_row: string[], { index, signal }) => (signal.aborted ? -1 : index)), sink);
      expect(sink.rows).to.deep.equal([['x', 1], ['y', 2]]);
    });

    it('builds new rows; the input rows are not changed', async () => {
      const arrays = [['a']];
      const objects = [{ a: 1 }];
      await runAccounted(arrays, addColumn('b', () => 'b'), collect());
      await runAccounted(objects, addColumn('b', () => 'b'), collect());
      expect(arrays).to.deep.equal([['a']]);
      expect(objects).to.deep.equal([{ a: 1 }]);
    });

    it('a column named __proto__ becomes an own key', async () => {
      const sink = collect<Row>();
      await runAccounted([{ a: 1 }], addColumn('__proto__', () => ({ polluted: true })), sink);
      expect(Object.getPrototypeOf(sink.rows[0])).to.equal(Object.prototype);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['a', '__proto__']);
      expect(({} as Row).polluted).to.equal(undefined);
    });

    it('handles empty input; names itself after the column; keeps order', async () => {
      let calls = 0;
      const stage = addColumn('days', () => ++calls);
      expect(stage.stage).to.equal('addColumn(days)');
      expect(counts(await runAccounted([], stage, collect()))).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
      expect(calls).to.equal(0);
      const sink = collect<number[]>();
      await runAccounted(range(100).map((i) => [i]), addColumn('twice', (row: number[]) => row[0] * 2), sink);
      expect(sink.rows).to.deep.equal(range(100).map((i) => [i, i * 2]));
    });
  });

  describe('async compute, concurrency, ordered: false', () => {
    it('an async value is awaited; with concurrency, rows keep input order by default', async () => {
      const calls = new ControlledCalls<number[], string>();
      const sink = collect<unknown[]>();
      const done = runAccounted(range(3).map((i) => [i]), addColumn('owner', calls.fn, { concurrency: 3 }), sink);
      await calls.called(3);
      for (const i of [2, 1, 0]) calls.resolve(i, `owner ${i + 1}`);
      const summary = await done;
      expect(sink.rows).to.deep.equal([[1, 'owner 1'], [2, 'owner 2'], [3, 'owner 3']]);
      expect(calls.maxInFlight).to.equal(3);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('ordered: false: a slow value no longer holds back the rows after it', async () => {
      const calls = new ControlledCalls<Row, string>();
      const sink = collect<Row>();
      const done = runAccounted(range(4).map((id) => ({ id })), addColumn('owner', calls.fn, { concurrency: 2, ordered: false }), sink);
      await calls.called(2);
      calls.resolve(1, 'b'); // row 1 stays pending; row 2 leaves, its slot goes to row 3
      await calls.called(3);
      calls.resolve(2, 'c');
      await calls.called(4);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([{ id: 2, owner: 'b' }, { id: 3, owner: 'c' }]);
      calls.resolve(3, 'd');
      calls.resolve(0, 'a');
      await done;
      expect(sink.rows).to.deep.equal([{ id: 2, owner: 'b' }, { id: 3, owner: 'c' }, { id: 4, owner: 'd' }, { id: 1, owner: 'a' }]);
    });

  });

  describe('options', () => {
    it('defaults: highWaterMark 16, onError fail', async () => {
      const stage = addColumn('x', () => 1);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      expect(await rejectionOf(run([{ x: 0 }], addColumn('x', () => 1), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for an invalid name, compute or options', () => {
      const cases: [() => unknown, string][] = [
        [() => addColumn('', () => 1), 'addColumn(): expected `name` to be a non-empty string, got ""'],
        [() => addColumn(5 as never, () => 1), 'addColumn(): expected `name` to be a non-empty string, got 5'],
        [() => addColumn('x', 'const' as never), 'addColumn(): expected `compute` to be a function, got `const` (string)'],
        [() => addColumn('x', () => 1, true as never), 'addColumn(): expected `options` to be an object, got `true` (boolean)'],
        [() => addColumn('x', () => 1, { highWaterMark: 0 }), 'addColumn(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
        [() => addColumn('x', () => 1, { onError: { replaceWith: null as never } }), 'addColumn(): expected `onError.replaceWith` to be a row or a function, got `null`'],
        [() => addColumn('x', () => 1, { concurrency: 0 }), 'addColumn(): expected `concurrency` to be an integer from 1 and up, got `0` (number)'],
        [() => addColumn('x', () => 1, { ordered: 'no' as never }), 'addColumn(): expected `ordered` to be a boolean, got `no` (string)'],
      ];
      expectTypeErrors(cases);
    });

    it('reads: compute is given those fields in that order (indexes of arrays, names of objects), the row gets the value', async () => {
      const arrays = collect<unknown[]>();
      await runAccounted([['a', 'b', 'c'], ['d', 'e']], addColumn('x', (fields: (string | undefined)[]) => fields.join('+'), { reads: [2, 0, 2] }), arrays);
      expect(arrays.rows).to.deep.equal([['a', 'b', 'c', 'c+a+c'], ['d', 'e', '+d+']]);
      const objects = collect<Row>();
      await runAccounted([{ a: 1, b: 2 }], addColumn('x', ([b, a, c]: unknown[]) => `${b}${a}${c}`, { reads: ['b', 'a', 'c'] }), objects);
      expect(objects.rows).to.deep.equal([{ a: 1, b: 2, x: '21undefined' }]);
      const fresh: unknown[][] = [];
      await runAccounted([['a'], ['b']], addColumn('x', (fields: string[]) => fresh.push(fields), { reads: [0] }), collect());
      expect(fresh).to.deep.equal([['a'], ['b']]);
      expect(fresh[0]).not.to.equal(fresh[1]);
    });

    it('reads: the documented TypeError for anything but an array of indexes or of names', () => {
      const message = (got: string) => `addColumn(): expected \`reads\` to be an array of column indexes (integers from 0) or of column names, got ${got}`;
      expectTypeErrors([
        [() => addColumn('x', () => 1, { reads: 4 as never }), message('`4` (number)')],
        [() => addColumn('x', () => 1, { reads: [-1] }), message('an array of length 1')],
        [() => addColumn('x', () => 1, { reads: [1.5] }), message('an array of length 1')],
        [() => addColumn('x', () => 1, { reads: [1, 'a'] as never }), message('an array of length 2')],
        [() => addColumn('x', () => 1, { read: [1] } as never), "addColumn(): unknown option 'read' (did you mean 'reads'?)"],
      ]);
    });

    it('does not change the options object', async () => {
      const options = Object.freeze({ highWaterMark: 2, onError: 'reject' as const });
      const summary = await runAccounted([{}, { x: 1 }], addColumn('x', () => 0, options), collect(), { rejects: () => {} });
      expect(options).to.deep.equal({ highWaterMark: 2, onError: 'reject' });
      expect(counts(summary)).to.deep.equal({ read: 2, written: 1, filtered: 0, rejected: 1, stoppedEarly: false });
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    it('stalled consumer: pulls exactly hs + 2h - 1 + hk rows', async () => {
      const held = await measureHeld(addColumn('n', () => 1, { highWaterMark: 3 }), { sourceHighWaterMark: 4, sinkHighWaterMark: 1, row: (i) => [i] });
      expect(held.pulled).to.equal(bound(4, 3, 1));
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(3), { sourceHighWaterMark: 4, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(4, 3, 1));
    });
  });

  describe('errors', () => {
    it('compute throws on the first row: RowError naming stage and row; cause the original; stages closed', async () => {
      const original = new Error('bad date');
      const stage = addColumn('days', () => {
        throw original;
      });
      const sink = collect();
      const error = await rejectionOf(run([['x']], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('addColumn(days) failed on row 1: bad date');
      expect(error.cause).to.equal(original);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a middle row that already has the column, or is not a row: earlier rows delivered', async () => {
      const sink = collect();
      const error = await rejectionOf(run([{ a: 1 }, { a: 2, n: 0 }], addColumn('n', () => 1), sink));
      expect(error.message).to.equal('addColumn(n) failed on row 2: the row already has a column "n" (use set() to overwrite)');
      expect(sink.rows).to.deep.equal([{ a: 1, n: 1 }]);
      // Cast: a row of the wrong kind on purpose (the stage's row type would reject it).
      const kind = await rejectionOf(run([[1], 'text'] as never[], addColumn('n', () => 1), collect()));
      expect(kind.message).to.equal('addColumn(n) failed on row 2: addColumn() needs array or object rows, got a string');
    });

    it("onError 'reject': rows go to rejects with reason, stage and index", async () => {
      const rejects: Reject[] = [];
      const sink = collect();
      const compute = (row: { d: string }) => {
        const t = Date.parse(row.d);
        if (Number.isNaN(t)) throw new RangeError(`not a date: ${row.d}`);
        return t;
      };
      const summary = await runAccounted([{ d: '2024-01-01' }, { d: 'soon' }], addColumn('t', compute, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([{ d: '2024-01-01', t: Date.parse('2024-01-01') }]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'addColumn(t)', reason: 'not a date: soon', index: 2, row: { d: 'soon' } },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 1, filtered: 0, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } value and function', async () => {
      const failing = (): number => {
        throw new Error('no');
      };
      const byValue = collect();
      await runAccounted([['a']], addColumn<unknown[], number>('n', failing, { onError: { replaceWith: ['a', null] } }), byValue);
      expect(byValue.rows).to.deep.equal([['a', null]]);
      const byFunction = collect();
      const summary = await runAccounted([['a'], ['b']], addColumn<unknown[], number>('n', failing, { onError: { replaceWith: (row) => [...row, -1] } }), byFunction);
      expect(byFunction.rows).to.deep.equal([['a', -1], ['b', -1]]);
      expectAccounted(summary);
    });

    it('maxRejects exceeded: RejectLimitError; stages closed', async () => {
      const stage = addColumn('a', () => 1, { onError: 'reject' });
      const sink = collect();
      const error = await rejectionOf(run([{ a: 0 }, { a: 0 }], stage, sink, { rejects: () => {}, maxRejects: 1 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject' without a rejects target: nothing receives rejects", async () => {
      const error = await rejectionOf(run([{ a: 0 }], addColumn('a', () => 1, { onError: 'reject' }), collect()));
      expect(error.message).to.contain('addColumn(a) failed on row 1');
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'; the signal given to compute is aborted", async () => {
      const signals: AbortSignal[] = [];
      const stage = addColumn('n', (_row: unknown[], { signal }) => {
        signals.push(signal);
        return 1;
      });
      const { events } = await destroyMidStream(stage, (i) => [i]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
      expect(signals.length).to.be.greaterThan(0);
      expect(signals.every((s) => s.aborted)).to.equal(true);
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((i) => [i]);
      const stage = addColumn('sq', (row: number[]) => row[0] ** 2);
      const seen: unknown[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 3) break;
      }
      expect(seen).to.deep.equal([[1, 1], [2, 4], [3, 9]]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
