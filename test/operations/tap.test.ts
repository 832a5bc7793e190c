import { expect } from 'chai';
import { pipeline } from 'node:stream';
import { AbortError, RejectLimitError, RowError, pipe, run, tap, type Reject } from '../../lib/index.js';
import {
  ControlledCalls,
  CountingSource,
  StalledSink,
  closed,
  collect,
  countEvents,
  counts,
  deferred,
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

function failingOn(...bad: number[]) {
  const errors = new Map<number, Error>();
  const fn = function audit(x: number): void {
    if (!bad.includes(x)) return;
    const error = new Error(`audit failed for ${x}`);
    errors.set(x, error);
    throw error;
  };
  return { fn, errors };
}

describe('tap()', () => {
  describe('behaviour', () => {
    it('calls fn for each row and passes the very same row on', async () => {
      const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
      const seen: { id: number }[] = [];
      const sink = collect<{ id: number }>();
      const summary = await runAccounted(rows, tap((row: { id: number }) => void seen.push(row)), sink);
      expect(seen).to.deep.equal(rows);
      sink.rows.forEach((row, i) => expect(row).to.equal(rows[i]));
      expect(counts(summary)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it("ignores fn's return value, sync or async", async () => {
      const sink = collect<number>();
      await runAccounted(range(3), tap(() => null), tap(async () => 'ignored'), sink);
      expect(sink.rows).to.deep.equal([1, 2, 3]);
    });

    it('awaits an async fn before the row moves on (the side effect comes first)', async () => {
      const calls = new ControlledCalls<number, void>();
      const sink = collect<number>();
      const done = runAccounted(range(2), tap(calls.fn), sink);
      await calls.called(1);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, undefined);
      await calls.called(2);
      await until(() => sink.rows.length === 1, 'row 1');
      calls.resolve(1, undefined);
      await done;
      expect(sink.rows).to.deep.equal([1, 2]);
    });

    it('passes { signal, index }', async () => {
      const indexes: number[] = [];
      await runAccounted(['x', 'y', 'z'], tap((_row: string, { index, signal }) => {
        if (!signal.aborted) indexes.push(index);
      }), collect());
      expect(indexes).to.deep.equal([1, 2, 3]);
    });

    it('handles empty input', async () => {
      let calls = 0;
      const summary = await runAccounted([], tap(() => void calls++), collect());
      expect(calls).to.equal(0);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps order with concurrency > 1 when calls finish out of order', async () => {
      const calls = new ControlledCalls<number, void>();
      const sink = collect<number>();
      const done = runAccounted(range(5), tap(calls.fn, { concurrency: 5 }), sink);
      await calls.called(5);
      expect(calls.inFlight).to.equal(5);
      for (const i of [4, 2, 3, 1]) calls.resolve(i, undefined);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, undefined);
      const summary = await done;
      expect(sink.rows).to.deep.equal([1, 2, 3, 4, 5]);
      expect(calls.maxInFlight).to.equal(5);
      expectAccounted(summary);
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16, concurrency 1, onError fail', async () => {
      const stage = tap(() => {});
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      expect(stage.stage).to.equal('tap()');
      stage.destroy();
      const calls = new ControlledCalls<number, void>();
      const done = runAccounted(range(3), tap(calls.fn), collect());
      for (let i = 0; i < 3; i++) {
        await calls.called(i + 1);
        calls.resolve(i, undefined);
      }
      await done;
      expect(calls.maxInFlight).to.equal(1);
      expect(await rejectionOf(run(range(1), tap(failingOn(1).fn), collect()))).to.be.instanceOf(RowError);
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => tap(null as never), 'Expected `fn` to be a function, got `null`'],
        [() => tap(() => {}, 'fast' as never), 'Expected `tap options` to be an object, got `fast` (string)'],
        [() => tap(() => {}, { concurrency: -2 }), 'Expected `concurrency` to be an integer from 1 and up, got `-2` (number)'],
        [() => tap(() => {}, { highWaterMark: NaN }), 'Expected `highWaterMark` to be an integer from 1 and up, got `NaN` (number)'],
        [() => tap(() => {}, { onError: null as never }), "Expected `onError` to be 'fail', 'reject' or { replaceWith }, got `null`"],
      ];
      for (const [call, message] of cases) {
        const error = thrownBy(call);
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      }
    });

    it('does not change the options object', async () => {
      const options = { concurrency: 3, highWaterMark: 5 };
      const copy = structuredClone(options);
      await runAccounted(range(10), tap(async () => {}, options), collect());
      expect(options).to.deep.equal(copy);
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, c: number, hk: number) => hs + (h - 1) + (h + c - 1) + hk;

    it('sync fn, stalled consumer: pulls exactly hs + 2h - 1 + hk', async () => {
      const held = await measureHeld(tap(() => {}, { highWaterMark: 4 }), { sourceHighWaterMark: 1, sinkHighWaterMark: 3 });
      expect(held.pulled).to.equal(bound(1, 4, 1, 3));
    });

    it('async fn, stalled consumer: pulls exactly the bound, concurrency reached', async () => {
      let inFlight = 0;
      let max = 0;
      const fn = async () => {
        max = Math.max(max, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
      };
      const held = await measureHeld(tap(fn, { highWaterMark: 3, concurrency: 3 }), { sourceHighWaterMark: 2, sinkHighWaterMark: 1 });
      expect(held.pulled).to.equal(bound(2, 3, 3, 1));
      expect(max).to.equal(3);
    });

    it('calls that never settle: exactly `concurrency` in flight, hs + (h - 1) + c pulled', async () => {
      const calls = new ControlledCalls<number, void>();
      const source = new CountingSource(1_000, { highWaterMark: 1 });
      const stage = tap(calls.fn, { highWaterMark: 2, concurrency: 6 });
      const sink = new StalledSink();
      pipeline(source, stage, sink, () => {});
      await calls.called(6);
      expect(await quiesce(() => source.pulled)).to.equal(1 + (2 - 1) + 6);
      expect(calls.inFlight).to.equal(6);
      await destroyAll(source, stage, sink);
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(), { sourceHighWaterMark: 1, sinkHighWaterMark: 3, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(1, 16, 1, 3));
    });
  });

  describe('errors', () => {
    it('a throw on the first row rejects run() with a RowError; cause kept; every stage closed', async () => {
      const { fn, errors } = failingOn(1);
      const stage = tap(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(3), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('tap(audit) failed on row 1: audit failed for 1');
      expect(error.cause).to.equal(errors.get(1));
      expect(sink.rows).to.deep.equal([]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a throw on a middle row: earlier rows delivered, RowError names the row', async () => {
      const { fn, errors } = failingOn(2);
      const sink = collect();
      const error = await rejectionOf(run(range(4), tap(fn), sink));
      expect(error.message).to.equal('tap(audit) failed on row 2: audit failed for 2');
      expect(error.cause).to.equal(errors.get(2));
      expect(sink.rows).to.deep.equal([1]);
    });

    it('an async rejection: RowError with the original cause, stages closed', async () => {
      const original = new Error('webhook 500');
      const stage = tap(async function notify(x: number) {
        if (x === 3) throw original;
      }, { concurrency: 2 });
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink));
      expect(error.message).to.equal('tap(notify) failed on row 3: webhook 500');
      expect(error.cause).to.equal(original);
      expect(sink.rows).to.deep.equal([1, 2]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it("onError 'reject': the row goes to rejects (not on), the summary counts it", async () => {
      const rejects: Reject[] = [];
      const sink = collect<number>();
      const summary = await runAccounted(range(4), tap(failingOn(2, 4).fn, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([1, 3]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'tap(audit)', reason: 'audit failed for 2', index: 2, row: 2 },
        { stage: 'tap(audit)', reason: 'audit failed for 4', index: 4, row: 4 },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 4, written: 2, filtered: 0, rejected: 2, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('a rejects function that waits holds the stage back', async () => {
      const stored = deferred();
      const sink = collect<number>();
      let got = 0;
      const done = runAccounted(range(3), tap(failingOn(1).fn, { onError: 'reject' }), sink, {
        rejects: () => {
          got++;
          return stored.promise;
        },
      });
      await until(() => got === 1, 'the reject');
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      stored.resolve();
      expectAccounted(await done);
      expect(sink.rows).to.deep.equal([2, 3]);
    });

    it('onError { replaceWith } value and function', async () => {
      const byValue = collect<number>();
      await runAccounted(range(3), tap(failingOn(2).fn, { onError: { replaceWith: -1 } }), byValue);
      expect(byValue.rows).to.deep.equal([1, -1, 3]);
      const byFunction = collect<number>();
      const causes: string[] = [];
      const replaceWith = (row: number, error: Error) => {
        causes.push((error.cause as Error).message);
        return row * 10;
      };
      const summary = await runAccounted(range(3), tap(failingOn(3).fn, { onError: { replaceWith } }), byFunction);
      expect(byFunction.rows).to.deep.equal([1, 2, 30]);
      expect(causes).to.deep.equal(['audit failed for 3']);
      expectAccounted(summary);
    });

    it('more rejects than maxRejects: RejectLimitError; stages closed', async () => {
      const stage = tap(failingOn(1, 2).fn, { onError: 'reject' });
      const error = await rejectionOf(run(range(3), stage, collect(), { rejects: () => {}, maxRejects: 0 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal('more than 0 row(s) rejected; the last: tap(audit) failed on row 1: audit failed for 1');
      expect(stage.closed).to.equal(true);
    });

    it("onError 'reject' with no rejects target: nothing receives rejects", async () => {
      const error = await rejectionOf(run(range(2), tap(failingOn(2).fn, { onError: 'reject' }), collect()));
      expect(error.message).to.contain('nothing receives rejects');
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end'/'finish'; in-flight calls see signal.aborted", async () => {
      const calls = new ControlledCalls<number, void>();
      const stage = tap(calls.fn, { concurrency: 3 });
      const events = countEvents(stage);
      const sink = collect<number>();
      const result = pipelineResult(new CountingSource(50), stage, sink);
      await calls.called(3);
      stage.destroy();
      await closed(stage);
      expect(calls.calls.map((c) => c.context.signal.aborted)).to.deep.equal([true, true, true]);
      for (let i = 0; i < 3; i++) calls.resolve(i, undefined);
      expect((await result)?.message).to.equal('Premature close');
      expect(sink.rows).to.deep.equal([]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it('aborting run() aborts in-flight calls with an AbortError', async () => {
      const calls = new ControlledCalls<number, void>();
      const controller = new AbortController();
      const done = rejectionOf(run(range(5), tap(calls.fn), collect(), { signal: controller.signal }));
      await calls.called(1);
      controller.abort();
      expect(await done).to.be.instanceOf(AbortError);
      expect(calls.calls[0].context.signal.aborted).to.equal(true);
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = tap(async () => {});
      let n = 0;
      for await (const row of pipe(gen.source, stage)) {
        expect(row).to.equal(++n);
        if (n === 3) break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
