import { expect } from 'chai';
import { RowError, run } from '../../lib/index.js';
import { describeBackpressure } from './row-operation-backpressure.js';
import { describeEarlyDestroy, describeErrors } from './row-operation-errors.js';
import { failingOn, type RowOperationSubject } from './row-operation-subject.js';
import {
  ControlledCalls,
  CountingSource,
  collect,
  countEvents,
  counts,
  expectAccounted,
  expectTypeErrors,
  pipelineResult,
  quiesce,
  range,
  rejectionOf,
  runAccounted,
} from './streams.js';

/**
 * What every operation over a user function (map, filter, tap: all `RowOperation`s) must
 * do alike, each test run against the operation given: the context passed, order under
 * concurrency, option defaults and checks, the backpressure bounds (with the broken control
 * that must fail them), errors and the `onError` policies, and early destroy. The rows pass
 * through unchanged, so one expectation fits every operation; what an operation does with
 * its function's result is tested in its own file.
 */
export function describeRowOperationContract(subject: RowOperationSubject): void {
  describe('row operation contract', () => {
    describeBehaviour(subject);
    describeOptions(subject);
    describeBackpressure(subject);
    describeErrors(subject);
    describeEarlyDestroy(subject);
  });
}

function describeBehaviour(subject: RowOperationSubject): void {
  const { name, make, pass } = subject;
  describe('behaviour', () => {
    it('passes { signal, index } with a 1-based index and a live signal', async () => {
      const seen: { index: number; aborted: boolean; isSignal: boolean }[] = [];
      await runAccounted(range(3), make((row, { signal, index }) => {
        seen.push({ index, aborted: signal.aborted, isSignal: signal instanceof AbortSignal });
        return pass(row);
      }), collect());
      expect(seen).to.deep.equal([
        { index: 1, aborted: false, isSignal: true },
        { index: 2, aborted: false, isSignal: true },
        { index: 3, aborted: false, isSignal: true },
      ]);
    });

    it('handles empty input: the function is never called, the sink finishes', async () => {
      let calls = 0;
      const sink = collect();
      const finished = countEvents(sink, ['finish']);
      const summary = await runAccounted([], make((row) => {
        calls++;
        return pass(row);
      }), sink);
      expect(calls).to.equal(0);
      expect(sink.rows).to.deep.equal([]);
      expect(finished.finish).to.equal(1);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps input order with concurrency > 1 when calls complete out of order', async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const done = runAccounted(range(8), make(calls.fn, { concurrency: 4 }), sink);
      await calls.called(4);
      await quiesce(() => calls.calls.length);
      expect(calls.calls.length, 'exactly 4 calls started').to.equal(4);
      expect(calls.inFlight).to.equal(4);
      // Complete 4, 3, 2, 1: nothing may pass row 1.
      for (const i of [3, 2, 1]) calls.resolve(i, pass(calls.calls[i].row));
      await quiesce(() => sink.rows.length);
      expect(sink.rows, 'rows 2-4 wait for row 1').to.deep.equal([]);
      calls.resolve(0, pass(1));
      await calls.called(8);
      for (const i of [7, 5, 6, 4]) calls.resolve(i, pass(calls.calls[i].row));
      const summary = await done;
      expect(sink.rows).to.deep.equal(range(8));
      expect(calls.maxInFlight).to.equal(4);
      expectAccounted(summary);
    });

    it('keeps order when sync and async results are mixed', async () => {
      const sink = collect<number>();
      const fn = (x: number) => (x % 3 === 0 ? new Promise((resolve) => setImmediate(() => resolve(pass(x)))) : pass(x));
      await runAccounted(range(30), make(fn, { concurrency: 3 }), sink);
      expect(sink.rows).to.deep.equal(range(30));
    });

    it('names itself after the function and counts rows in and out', async () => {
      const named = make(function check(x) { return pass(x); });
      expect(named.stage).to.equal(`${name}(check)`);
      expect(make(function (x) { return pass(x); }).stage).to.equal(`${name}()`);
      expect(make((x) => pass(x)).stage).to.equal(`${name}()`);
      await runAccounted(range(3), named, collect());
      expect(named.stats).to.deep.equal({ in: 3, out: 3, filtered: 0, rejected: 0 });
    });

    it('is an object-mode Transform usable in a bare stream.pipeline', async () => {
      const sink = collect<number>();
      expect(await pipelineResult(new CountingSource(10), make(pass), sink)).to.equal(null);
      expect(sink.rows).to.deep.equal(range(10));
    });
  });
}

function describeOptions(subject: RowOperationSubject): void {
  const { name, fnOption, make, pass } = subject;
  describe('options', () => {
    it('defaults: highWaterMark 16 on both sides, object mode, concurrency 1', async () => {
      const stage = make(pass);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([16, 16]);
      expect([stage.readableObjectMode, stage.writableObjectMode]).to.deep.equal([true, true]);
      stage.destroy();
      // concurrency 1: each call starts only after the one before it has settled.
      const calls = new ControlledCalls<number, unknown>();
      const done = runAccounted(range(3), make(calls.fn), collect());
      for (let i = 0; i < 3; i++) {
        await calls.called(i + 1);
        await quiesce(() => calls.calls.length);
        expect(calls.calls.length).to.equal(i + 1);
        calls.resolve(i, pass(i + 1));
      }
      await done;
      expect(calls.maxInFlight).to.equal(1);
    });

    it('defaults onError to fail', async () => {
      const error = await rejectionOf(run(range(3), make(failingOn(subject, 2).fn), collect()));
      expect(error).to.be.instanceOf(RowError);
    });

    it('passes highWaterMark to both sides', () => {
      const stage = make(pass, { highWaterMark: 3 });
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([3, 3]);
      stage.destroy();
    });

    it('throws the documented TypeError for invalid values, before any stream exists', () => {
      const onError = `${name}(): expected \`onError\` to be 'fail', 'reject' or { replaceWith }`;
      expectTypeErrors([
        [() => make(1 as never), `${name}(): expected \`${fnOption}\` to be a function, got \`1\` (number)`],
        [() => make(undefined as never), `${name}(): expected \`${fnOption}\` to be a function, got \`undefined\` (undefined)`],
        [() => make('x' as never), `${name}(): expected \`${fnOption}\` to be a function, got \`x\` (string)`],
        [() => make(null as never), `${name}(): expected \`${fnOption}\` to be a function, got \`null\``],
        [() => make(pass, null as never), `${name}(): expected \`options\` to be an object, got \`null\``],
        [() => make(pass, 4 as never), `${name}(): expected \`options\` to be an object, got \`4\` (number)`],
        [() => make(pass, [] as never), `${name}(): expected \`options\` to be an object, got an array of length 0`],
        [() => make(pass, 'fast' as never), `${name}(): expected \`options\` to be an object, got \`fast\` (string)`],
        [() => make(pass, { concurrency: 0 }), `${name}(): expected \`concurrency\` to be an integer from 1 and up, got \`0\` (number)`],
        [() => make(pass, { concurrency: -2 }), `${name}(): expected \`concurrency\` to be an integer from 1 and up, got \`-2\` (number)`],
        [() => make(pass, { concurrency: 1.5 }), `${name}(): expected \`concurrency\` to be an integer from 1 and up, got \`1.5\` (number)`],
        [() => make(pass, { concurrency: '2' as never }), `${name}(): expected \`concurrency\` to be an integer from 1 and up, got \`2\` (string)`],
        [() => make(pass, { concurrency: Infinity }), `${name}(): expected \`concurrency\` to be an integer from 1 and up, got \`Infinity\` (number)`],
        [() => make(pass, { highWaterMark: 0 }), `${name}(): expected \`highWaterMark\` to be an integer from 1 and up, got \`0\` (number)`],
        [() => make(pass, { highWaterMark: -1 }), `${name}(): expected \`highWaterMark\` to be an integer from 1 and up, got \`-1\` (number)`],
        [() => make(pass, { highWaterMark: 2.5 }), `${name}(): expected \`highWaterMark\` to be an integer from 1 and up, got \`2.5\` (number)`],
        [() => make(pass, { highWaterMark: NaN }), `${name}(): expected \`highWaterMark\` to be an integer from 1 and up, got \`NaN\` (number)`],
        [() => make(pass, { onError: 'ignore' as never }), `${onError}, got \`ignore\` (string)`],
        [() => make(pass, { onError: {} as never }), `${onError}, got an object`],
        [() => make(pass, { onError: null as never }), `${onError}, got \`null\``],
        [() => make(pass, { onError: { replaceWith: null as never } }), `${name}(): expected \`onError.replaceWith\` to be a row or a function, got \`null\``],
        [() => make(pass, { onError: { replaceWith: undefined as never } }), `${name}(): expected \`onError.replaceWith\` to be a row or a function, got \`undefined\` (undefined)`],
      ]);
    });

    it('accepts a frozen options object and does not change it', async () => {
      const replaceWith = () => -1;
      const options = Object.freeze({ concurrency: 2, highWaterMark: 4, onError: Object.freeze({ replaceWith }) });
      const sink = collect<number>();
      await runAccounted(range(4), make(failingOn(subject, 3).fn, options), sink);
      expect(sink.rows).to.deep.equal([1, 2, -1, 4]);
      expect(options).to.deep.equal({ concurrency: 2, highWaterMark: 4, onError: { replaceWith } });
      const rejecting = Object.freeze({ concurrency: 2, highWaterMark: 2, onError: 'reject' as const });
      const summary = await runAccounted(range(4), make(failingOn(subject, 2).fn, rejecting), collect(), { rejects: () => {} });
      expect(rejecting).to.deep.equal({ concurrency: 2, highWaterMark: 2, onError: 'reject' });
      expect(counts(summary)).to.deep.equal({ read: 4, written: 3, filtered: 0, rejected: 1, stoppedEarly: false });
    });
  });
}
