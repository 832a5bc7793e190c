import { expect } from 'chai';
import { RejectLimitError, RowError, pipe, rename, run, type Reject } from '../../lib/index.js';
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
const raw = [
  { 'Plate ID': 'A1', 'Registration State': 'NJ', Make: 'FORD' },
  { 'Plate ID': 'B2', 'Registration State': 'NY', Make: 'HONDA' },
];

describe('rename()', () => {
  describe('behaviour', () => {
    it('renames the named columns and keeps every column in its place', async () => {
      const sink = collect<Row>();
      const summary = await runAccounted(raw, rename({ 'Plate ID': 'plate', 'Registration State': 'state' }), sink);
      expect(sink.rows).to.deep.equal([
        { plate: 'A1', state: 'NJ', Make: 'FORD' },
        { plate: 'B2', state: 'NY', Make: 'HONDA' },
      ]);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['plate', 'state', 'Make']);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('can swap two names', async () => {
      const sink = collect<Row>();
      await runAccounted([{ a: 1, b: 2 }], rename({ a: 'b', b: 'a' }), sink);
      expect(sink.rows[0]).to.deep.equal({ b: 1, a: 2 });
      expect(Object.keys(sink.rows[0])).to.deep.equal(['b', 'a']);
    });

    it('builds new rows; the input rows are not changed', async () => {
      const input = structuredClone(raw);
      const sink = collect<Row>();
      await runAccounted(input, rename({ Make: 'make' }), sink);
      expect(input).to.deep.equal(raw);
      expect(sink.rows[0]).to.not.equal(input[0]);
    });

    it('renaming to __proto__ makes an own key, not a new prototype', async () => {
      const sink = collect<Row>();
      await runAccounted([{ a: { polluted: true } }], rename({ a: '__proto__' }), sink);
      expect(Object.getPrototypeOf(sink.rows[0])).to.equal(Object.prototype);
      expect(Object.keys(sink.rows[0])).to.deep.equal(['__proto__']);
      expect(({} as Row).polluted).to.equal(undefined);
    });

    it('handles empty input; names itself after the old names', async () => {
      const stage = rename({ a: 'x', b: 'y' });
      expect(stage.stage).to.equal('rename(a,b)');
      const summary = await runAccounted([], stage, collect());
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps row order over many rows', async () => {
      const sink = collect<Row>();
      await runAccounted(range(300).map((id) => ({ id })), rename({ id: 'n' }), sink);
      expect(sink.rows.map((r) => r.n)).to.deep.equal(range(300));
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16, onError fail', async () => {
      const stage = rename({ a: 'b' });
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      expect(await rejectionOf(run([{}], rename({ a: 'b' }), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for an invalid mapping or options', () => {
      const cases: [() => unknown, string][] = [
        [() => rename(null as never), 'rename(): expected `mapping` to be an object, got `null`'],
        [() => rename(['a'] as never), 'rename(): expected `mapping` to be an object, got an array of length 1'],
        [() => rename({}), 'rename(): expected `mapping` to name at least one column'],
        [() => rename({ a: 5 as never }), 'rename(): expected `mapping["a"]` to be a non-empty string, got 5'],
        [() => rename({ a: '' }), 'rename(): expected `mapping["a"]` to be a non-empty string, got ""'],
        [() => rename({ a: 'x', b: 'x' }), 'rename(): expected `mapping` to give distinct new names, got "x" twice'],
        [() => rename({ a: 'b' }, 'strict' as never), 'rename(): expected `options` to be an object, got `strict` (string)'],
        [() => rename({ a: 'b' }, { highWaterMark: 0 }), 'rename(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the mapping or the options object', async () => {
      const mapping = Object.freeze({ a: 'b' });
      const options = Object.freeze({ highWaterMark: 3, onError: Object.freeze({ replaceWith: { b: null } }) });
      const sink = collect<Row>();
      await runAccounted([{ a: 1 }, { c: 2 }], rename(mapping, options), sink);
      expect(sink.rows).to.deep.equal([{ b: 1 }, { b: null }]);
      expect(mapping).to.deep.equal({ a: 'b' });
      expect(options).to.deep.equal({ highWaterMark: 3, onError: { replaceWith: { b: null } } });
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    it('stalled consumer: pulls exactly hs + 2h - 1 + hk rows', async () => {
      const held = await measureHeld(rename({ id: 'n' }, { highWaterMark: 4 }), { sourceHighWaterMark: 2, sinkHighWaterMark: 3, row: (id) => ({ id }) });
      expect(held.inSink).to.equal(3);
      expect(held.pulled).to.equal(bound(2, 4, 3));
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(4), { sourceHighWaterMark: 2, sinkHighWaterMark: 3, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(2, 4, 3));
    });
  });

  describe('errors', () => {
    it('the first row lacks a named column: RowError naming stage and row; cause the RangeError', async () => {
      const stage = rename({ a: 'x' });
      const sink = collect();
      const error = await rejectionOf(run([{ b: 1 }, { a: 2 }], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('rename(a) failed on row 1: no column "a" in the row');
      expect(error.cause).to.be.instanceOf(RangeError);
      expect(sink.rows).to.deep.equal([]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a middle row whose new name collides, or that is not an object: earlier rows delivered', async () => {
      const sink = collect();
      const error = await rejectionOf(run([{ a: 1 }, { a: 2, x: 0 }], rename({ a: 'x' }), sink));
      expect(error.message).to.equal('rename(a) failed on row 2: renaming gives two columns named "x"');
      expect(sink.rows).to.deep.equal([{ x: 1 }]);
      const kind = await rejectionOf(run([{ a: 1 }, ['a']], rename({ a: 'x' }), collect()));
      expect(kind.message).to.equal('rename(a) failed on row 2: rename() needs object rows, got an array');
      expect(kind.cause).to.be.instanceOf(TypeError);
    });

    it("onError 'reject': the row goes to rejects; the summary counts it", async () => {
      const rejects: Reject[] = [];
      const sink = collect();
      const summary = await runAccounted([{ a: 1 }, { b: 2 }, { a: 3 }], rename({ a: 'x' }, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([{ x: 1 }, { x: 3 }]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'rename(a)', reason: 'no column "a" in the row', index: 2, row: { b: 2 } },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 2, filtered: 0, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } with a function gets the row and error', async () => {
      const sink = collect();
      const summary = await runAccounted([{ a: 1 }, { b: 2 }], rename({ a: 'x' }, { onError: { replaceWith: (row: object, error: Error) => ({ x: null, was: Object.keys(row), why: (error as RowError).row }) } }), sink);
      expect(sink.rows).to.deep.equal([{ x: 1 }, { x: null, was: ['b'], why: 2 }]);
      expectAccounted(summary);
    });

    it('maxRejects exceeded: RejectLimitError; stages closed', async () => {
      const stage = rename({ a: 'x' }, { onError: 'reject' });
      const error = await rejectionOf(run([{}, {}], stage, collect(), { rejects: () => {}, maxRejects: 1 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(stage.closed).to.equal(true);
    });

    it("onError 'reject' without a rejects target: nothing receives rejects", async () => {
      const error = await rejectionOf(run([{}], rename({ a: 'x' }, { onError: 'reject' }), collect()));
      expect(error.message).to.contain('rename(a) failed on row 1');
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(rename({ id: 'n' }), (id) => ({ id }));
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((id) => ({ id }));
      const stage = rename({ id: 'n' });
      for await (const row of pipe(gen.source, stage)) {
        expect(row).to.deep.equal({ n: 1 });
        break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
