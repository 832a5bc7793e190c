import { expect } from 'chai';
import { pipeline } from 'node:stream';
import { AbortError, RejectLimitError, RowError, filter, pipe, run, type Reject } from '../../lib/index.js';
import {
  ControlledCalls,
  CountingSource,
  StalledSink,
  closed,
  collect,
  countEvents,
  counts,
  destroyAll,
  expectAccounted,
  ignoresBackpressure,
  measureHeld,
  pipelineResult,
  quiesce,
  range,
  rejectionOf,
  thrownBy,
  trackedGenerator,
  until,
  runAccounted,
} from '../helpers/streams.js';

const isEven = (x: number) => x % 2 === 0;

function failingOn(...bad: number[]) {
  const errors = new Map<number, Error>();
  const fn = function picky(x: number): boolean {
    if (!bad.includes(x)) return true;
    const error = new Error(`cannot judge ${x}`);
    errors.set(x, error);
    throw error;
  };
  return { fn, errors };
}

describe('filter()', () => {
  describe('behaviour', () => {
    it('keeps the rows a sync predicate accepts and counts the rest as filtered', async () => {
      const stage = filter(isEven);
      const sink = collect<number>();
      const summary = await runAccounted(range(10), stage, sink);
      expect(sink.rows).to.deep.equal([2, 4, 6, 8, 10]);
      expect(stage.stats).to.deep.equal({ in: 10, out: 5, filtered: 5, rejected: 0 });
      expect(counts(summary)).to.deep.equal({ read: 10, written: 5, filtered: 5, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('awaits an async predicate, and any truthy value keeps the row', async () => {
      const verdicts: unknown[] = [1, 0, 'yes', '', {}, null, [], undefined];
      const sink = collect<number>();
      const summary = await runAccounted(range(8), filter(async (x: number) => verdicts[x - 1]), sink);
      expect(sink.rows).to.deep.equal([1, 3, 5, 7]);
      expectAccounted(summary);
    });

    it('passes { signal, index } to the predicate', async () => {
      const indexes: number[] = [];
      await runAccounted(['a', 'b'], filter((_row: string, { signal, index }) => {
        expect(signal.aborted).to.equal(false);
        indexes.push(index);
        return true;
      }), collect());
      expect(indexes).to.deep.equal([1, 2]);
    });

    it('handles empty input', async () => {
      let calls = 0;
      const sink = collect();
      const summary = await runAccounted([], filter(() => ++calls), sink);
      expect(calls).to.equal(0);
      expect(sink.rows).to.deep.equal([]);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps input order with concurrency > 1 when predicates settle out of order', async () => {
      const calls = new ControlledCalls<number, boolean>();
      const sink = collect<number>();
      const done = runAccounted(range(6), filter(calls.fn, { concurrency: 3 }), sink);
      await calls.called(3);
      await quiesce(() => calls.calls.length);
      expect(calls.inFlight).to.equal(3);
      calls.resolve(2, true);
      calls.resolve(1, false);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, true);
      await calls.called(6);
      calls.resolve(5, true);
      calls.resolve(4, true);
      calls.resolve(3, false);
      const summary = await done;
      expect(sink.rows).to.deep.equal([1, 3, 5, 6]);
      expect(calls.maxInFlight).to.equal(3);
      expect(counts(summary)).to.deep.equal({ read: 6, written: 4, filtered: 2, rejected: 0, stoppedEarly: false });
    });

    it('names itself after the predicate', () => {
      expect(filter(isEven).stage).to.equal('filter(isEven)');
      expect(filter((x: number) => x).stage).to.equal('filter()');
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16 on both sides, concurrency 1, onError fail', async () => {
      const stage = filter(isEven);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      stage.destroy();
      const calls = new ControlledCalls<number, boolean>();
      const done = runAccounted(range(3), filter(calls.fn), collect());
      for (let i = 0; i < 3; i++) {
        await calls.called(i + 1);
        await quiesce(() => calls.calls.length);
        expect(calls.calls.length).to.equal(i + 1);
        calls.resolve(i, true);
      }
      await done;
      expect(calls.maxInFlight).to.equal(1);
      expect(await rejectionOf(run(range(2), filter(failingOn(1).fn), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => filter('x' as never), 'Expected `predicate` to be a function, got `x` (string)'],
        [() => filter(isEven, [] as never), 'Expected `filter options` to be an object, got an array of length 0'],
        [() => filter(isEven, { concurrency: 0 }), 'Expected `concurrency` to be an integer from 1 and up, got `0` (number)'],
        [() => filter(isEven, { highWaterMark: 2.5 }), 'Expected `highWaterMark` to be an integer from 1 and up, got `2.5` (number)'],
        [() => filter(isEven, { onError: 'skip' as never }), "Expected `onError` to be 'fail', 'reject' or { replaceWith }, got `skip` (string)"],
        [() => filter(isEven, { onError: { replaceWith: undefined as never } }), 'Expected `onError.replaceWith` to be a row or a function, got `undefined` (undefined)'],
      ];
      for (const [call, message] of cases) {
        const error = thrownBy(call);
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      }
    });

    it('does not change the options object', async () => {
      const options = Object.freeze({ concurrency: 2, highWaterMark: 2, onError: 'reject' as const });
      const summary = await runAccounted(range(4), filter(failingOn(2).fn, options), collect(), { rejects: () => {} });
      expect(options).to.deep.equal({ concurrency: 2, highWaterMark: 2, onError: 'reject' });
      expect(counts(summary)).to.deep.equal({ read: 4, written: 3, filtered: 0, rejected: 1, stoppedEarly: false });
    });
  });

  describe('backpressure', () => {
    // As for map(): source buffer + input buffer (h, the held row among them) + output
    // buffer (h, plus the rows in flight: h + c - 1) + what the stalled sink took.
    const bound = (hs: number, h: number, c: number, hk: number) => hs + (h - 1) + (h + c - 1) + hk;

    it('sync predicate keeping every row, stalled consumer: pulls exactly hs + 2h - 1 + hk', async () => {
      const held = await measureHeld(filter(() => true, { highWaterMark: 3 }), { sourceHighWaterMark: 2, sinkHighWaterMark: 2 });
      expect(held.inSink).to.equal(2);
      expect(held.pulled).to.equal(bound(2, 3, 1, 2));
    });

    it('async predicate, stalled consumer: pulls exactly the bound, concurrency reached', async () => {
      let inFlight = 0;
      let max = 0;
      const predicate = async () => {
        max = Math.max(max, ++inFlight);
        await null;
        inFlight--;
        return true;
      };
      const held = await measureHeld(filter(predicate, { highWaterMark: 2, concurrency: 5 }), { sourceHighWaterMark: 3, sinkHighWaterMark: 1 });
      expect(held.pulled).to.equal(bound(3, 2, 5, 1));
      expect(max).to.equal(5);
    });

    it('predicates that never settle: exactly `concurrency` in flight, hs + (h - 1) + c rows pulled', async () => {
      const calls = new ControlledCalls<number, boolean>();
      const source = new CountingSource(1_000, { highWaterMark: 2 });
      const stage = filter(calls.fn, { highWaterMark: 3, concurrency: 4 });
      const sink = new StalledSink();
      pipeline(source, stage, sink, () => {});
      await calls.called(4);
      expect(await quiesce(() => source.pulled)).to.equal(2 + (3 - 1) + 4);
      expect(calls.inFlight).to.equal(4);
      await destroyAll(source, stage, sink);
    });

    it('dropped rows are not held: dropping everything drains the source, nothing reaches the stalled sink', async () => {
      const stage = filter(() => false, { highWaterMark: 1 });
      const held = await measureHeld(stage, { sourceHighWaterMark: 1, sinkHighWaterMark: 1, total: 500 });
      expect(held.pulled).to.equal(500);
      expect(held.inSink).to.equal(0);
      expect(stage.stats.filtered).to.equal(500);
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(1), { sourceHighWaterMark: 2, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.equal(2_000);
      expect(held.pulled).to.be.greaterThan(bound(2, 1, 1, 1));
    });
  });

  describe('errors', () => {
    it('a throw on the first row rejects run() with a RowError; cause is the original; all closed', async () => {
      const { fn, errors } = failingOn(1);
      const stage = filter(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(3), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('filter(picky) failed on row 1: cannot judge 1');
      expect(error.cause).to.equal(errors.get(1));
      expect(sink.rows).to.deep.equal([]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a throw on a middle row: earlier rows delivered, RowError names row 3', async () => {
      const { fn, errors } = failingOn(3);
      const sink = collect();
      const error = await rejectionOf(run(range(5), filter(fn), sink));
      expect(error.message).to.equal('filter(picky) failed on row 3: cannot judge 3');
      expect((error as RowError).row).to.equal(3);
      expect(error.cause).to.equal(errors.get(3));
      expect(sink.rows).to.deep.equal([1, 2]);
    });

    it('an async rejection fails run() with a RowError, not a premature close', async () => {
      const original = new TypeError('lookup failed');
      const stage = filter(async function lookup(x: number) {
        if (x === 2) throw original;
        return true;
      }, { concurrency: 2 });
      const sink = collect();
      const error = await rejectionOf(run(range(4), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('filter(lookup) failed on row 2: lookup failed');
      expect(error.cause).to.equal(original);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject': rejected rows go to rejects and are counted apart from filtered rows", async () => {
      const rejects: Reject[] = [];
      const predicate = function picky(x: number) {
        if (x === 3) throw new Error('three');
        return x % 2 === 0;
      };
      const summary = await runAccounted(range(6), filter(predicate, { onError: 'reject' }), collect(), { rejects: (r) => void rejects.push(r) });
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'filter(picky)', reason: 'three', index: 3, row: 3 },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 6, written: 3, filtered: 2, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith } passes the replacement row on (value and function)', async () => {
      const byValue = collect<number>();
      await runAccounted(range(3), filter(failingOn(2).fn, { onError: { replaceWith: 0 } }), byValue);
      expect(byValue.rows).to.deep.equal([1, 0, 3]);
      const byFunction = collect<number>();
      const summary = await runAccounted(range(3), filter(failingOn(1, 3).fn, { onError: { replaceWith: (row: number, error: Error) => {
        expect(error).to.be.instanceOf(RowError);
        return row * 100;
      } } }), byFunction);
      expect(byFunction.rows).to.deep.equal([100, 2, 300]);
      expectAccounted(summary);
    });

    it('more rejects than maxRejects: RejectLimitError, every stage closed', async () => {
      const stage = filter(failingOn(2, 3).fn, { onError: 'reject' });
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink, { rejects: () => {}, maxRejects: 1 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal('more than 1 row(s) rejected; the last: filter(picky) failed on row 3: cannot judge 3');
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject' without a rejects target: an error saying nothing receives rejects", async () => {
      const error = await rejectionOf(run(range(3), filter(failingOn(1).fn, { onError: 'reject' }), collect()));
      expect(error.message).to.contain('filter(picky) failed on row 1');
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end'/'finish'; in-flight predicates see signal.aborted", async () => {
      const calls = new ControlledCalls<number, boolean>();
      const stage = filter(calls.fn, { concurrency: 2 });
      const events = countEvents(stage);
      const result = pipelineResult(new CountingSource(50), stage, collect());
      await calls.called(2);
      stage.destroy();
      await closed(stage);
      expect(calls.calls.map((c) => c.context.signal.aborted)).to.deep.equal([true, true]);
      calls.resolve(0, true);
      calls.resolve(1, true);
      expect((await result)?.message).to.equal('Premature close');
      await quiesce(() => stage.stats.out);
      expect(stage.stats.out).to.equal(0);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it('aborting run() aborts in-flight predicates; run rejects with an AbortError', async () => {
      const calls = new ControlledCalls<number, boolean>();
      const controller = new AbortController();
      const done = rejectionOf(run(range(10), filter(calls.fn, { concurrency: 2 }), collect(), { signal: controller.signal }));
      await calls.called(2);
      controller.abort();
      expect(await done).to.be.instanceOf(AbortError);
      expect(calls.calls.every((c) => c.context.signal.aborted)).to.equal(true);
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = filter(isEven);
      const seen: number[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 2) break;
      }
      expect(seen).to.deep.equal([2, 4]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
