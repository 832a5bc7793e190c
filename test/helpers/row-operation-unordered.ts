import { expect } from 'chai';
import { pipeline } from 'node:stream';
import { RowError, run } from '../../lib/index.js';
import type { RowOperationSubject } from './row-operation-subject.js';
import {
  ControlledCalls,
  CountingSource,
  StalledSink,
  collect,
  counts,
  destroyAll,
  destroyMidStream,
  expectTypeErrors,
  measureHeld,
  quiesce,
  range,
  rejectionOf,
  runAccounted,
} from './streams.js';

/**
 * `ordered: false` for a row operation: results leave in the order their calls settle
 * (asserted with calls the test settles, never with timing), the window of `concurrency`
 * rows and the backpressure bounds are those of ordered mode, and errors, rejects and early
 * destroy behave as there.
 */
export function describeUnordered(subject: RowOperationSubject): void {
  const { name, make, pass } = subject;
  describe('ordered: false', () => {
    it('a slow call no longer blocks the others: rows leave as their calls settle', async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const done = runAccounted(range(8), make(calls.fn, { concurrency: 4, ordered: false }), sink);
      await calls.called(4);
      // Row 1 stays pending; 4, 3, 2 pass it, and their slots go to rows 5-7.
      for (const i of [3, 2, 1]) calls.resolve(i, pass(calls.calls[i].row));
      await calls.called(7);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([4, 3, 2]);
      expect(calls.inFlight, 'row 1 and rows 5-7').to.equal(4);
      for (const i of [5, 4]) calls.resolve(i, pass(calls.calls[i].row));
      await calls.called(8);
      for (const i of [0, 7, 6]) calls.resolve(i, pass(calls.calls[i].row));
      const summary = await done;
      expect(sink.rows).to.deep.equal([4, 3, 2, 6, 5, 1, 8, 7]);
      expect(calls.maxInFlight).to.equal(4);
      expect(counts(summary)).to.deep.equal({ read: 8, written: 8, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('ordered: true (the default) keeps input order under the same settle order', async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const done = runAccounted(range(4), make(calls.fn, { concurrency: 4, ordered: true }), sink);
      await calls.called(4);
      for (const i of [3, 2, 1]) calls.resolve(i, pass(calls.calls[i].row));
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, pass(1));
      await done;
      expect(sink.rows).to.deep.equal([1, 2, 3, 4]);
    });

    it('sync results keep input order; mixed with async ones, every row arrives once', async () => {
      const sync = collect<number>();
      await runAccounted(range(20), make(pass, { concurrency: 3, ordered: false }), sync);
      expect(sync.rows).to.deep.equal(range(20));
      const mixed = collect<number>();
      const fn = (x: number) => (x % 3 === 0 ? new Promise((resolve) => setImmediate(() => resolve(pass(x)))) : pass(x));
      await runAccounted(range(30), make(fn, { concurrency: 3, ordered: false }), mixed);
      expect([...mixed.rows].sort((a, b) => a - b)).to.deep.equal(range(30));
    });

    it('rejects a non-boolean with the documented TypeError', () => {
      expectTypeErrors([
        [() => make(pass, { ordered: 'no' as never }), `${name}(): expected \`ordered\` to be a boolean, got \`no\` (string)`],
        [() => make(pass, { ordered: 0 as never }), `${name}(): expected \`ordered\` to be a boolean, got \`0\` (number)`],
      ]);
    });

    it('with calls that never settle: exactly `concurrency` in flight, hs + (h - 1) + concurrency rows pulled', async () => {
      const [hs, h, c] = [2, 3, 4];
      const calls = new ControlledCalls<number, unknown>();
      const source = new CountingSource(10_000, { highWaterMark: hs });
      const stage = make(calls.fn, { highWaterMark: h, concurrency: c, ordered: false });
      const sink = new StalledSink();
      pipeline(source, stage, sink, () => {});
      await calls.called(c);
      expect(await quiesce(() => source.pulled)).to.equal(hs + (h - 1) + c);
      expect(calls.inFlight).to.equal(c);
      await destroyAll(source, stage, sink);
    });

    it('stalled consumer: pulls exactly the bound of ordered mode, concurrency reached', async () => {
      const [hs, h, c] = [2, 3, 4];
      let inFlight = 0;
      let maxInFlight = 0;
      const fn = async (x: number) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise<void>((resolve) => setImmediate(resolve));
        inFlight--;
        return pass(x);
      };
      const held = await measureHeld(make(fn, { highWaterMark: h, concurrency: c, ordered: false }), { sourceHighWaterMark: hs, sinkHighWaterMark: 1 });
      expect(held.pulled).to.equal(hs + (h - 1) + (h + c - 1) + 1);
      expect(maxInFlight).to.equal(c);
    });

    it('a failure fails the stage as soon as it settles, naming its row, while earlier rows are pending', async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const stage = make(calls.fn, { concurrency: 3, ordered: false });
      const failed = rejectionOf(run(range(6), stage, sink));
      await calls.called(3);
      calls.resolve(2, pass(3));
      calls.reject(1, new Error('no 2'));
      const error = await failed;
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal(`${name}(fn) failed on row 2: no 2`);
      expect(sink.rows).to.deep.equal([3]);
      expect(calls.calls[0].context.signal.aborted, 'the pending call is aborted').to.equal(true);
      expect(stage.closed).to.equal(true);
    });

    it("onError 'reject': rejects and rows in settle order; every row accounted for", async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const rejected: number[] = [];
      const done = runAccounted(range(4), make(calls.fn, { concurrency: 4, ordered: false, onError: 'reject' }), sink, {
        rejects: (reject) => void rejected.push(reject.index),
      });
      await calls.called(4);
      calls.reject(2, new Error('no'));
      calls.resolve(3, pass(4));
      calls.reject(0, new Error('no'));
      calls.resolve(1, pass(2));
      const summary = await done;
      expect(rejected).to.deep.equal([3, 1]);
      expect(sink.rows).to.deep.equal([4, 2]);
      expect(counts(summary)).to.deep.equal({ read: 4, written: 2, filtered: 0, rejected: 2, stoppedEarly: false });
    });

    it("early destroy: 'close' once, no 'end' or 'finish'; in-flight calls see signal.aborted", async () => {
      const calls = new ControlledCalls<number, unknown>();
      const stage = make((x, context) => (x === 1 ? pass(x) : calls.fn(x, context)), { concurrency: 3, ordered: false });
      const { events, error } = await destroyMidStream(stage);
      expect(error).to.be.instanceOf(Error);
      expect([events.close, events.end, events.finish]).to.deep.equal([1, 0, 0]);
      expect(calls.calls.length).to.be.greaterThan(0);
      expect(calls.calls.every((call) => call.context.signal.aborted)).to.equal(true);
    });
  });
}
