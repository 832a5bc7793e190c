import { expect } from 'chai';
import { Readable, Writable, pipeline } from 'node:stream';
import { AbortError, RejectLimitError, RowError, map, pipe, run, type Reject, type RejectRecord } from '../../lib/index.js';
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

const double = (x: number) => x * 2;

/** Fails on the rows listed, passes the others through. */
function failingOn(...bad: number[]) {
  const errors = new Map<number, Error>();
  const fn = function explode(x: number): number {
    if (!bad.includes(x)) return x;
    const error = new Error(`bad row ${x}`);
    errors.set(x, error);
    throw error;
  };
  return { fn, errors };
}

describe('map()', () => {
  describe('behaviour', () => {
    it('maps each row with a sync function, in order', async () => {
      const sink = collect<number>();
      const summary = await runAccounted(range(50), map(double), sink);
      expect(sink.rows).to.deep.equal(range(50).map(double));
      expect(counts(summary)).to.deep.equal({ read: 50, written: 50, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('awaits an async function', async () => {
      const sink = collect<string>();
      const summary = await runAccounted(range(5), map(async (x: number) => `row ${x}`), sink);
      expect(sink.rows).to.deep.equal(['row 1', 'row 2', 'row 3', 'row 4', 'row 5']);
      expectAccounted(summary);
    });

    it('passes { signal, index } with a 1-based index and a live signal', async () => {
      const seen: { index: number; aborted: boolean; isSignal: boolean }[] = [];
      await runAccounted(['a', 'b', 'c'], map((row: string, { signal, index }) => {
        seen.push({ index, aborted: signal.aborted, isSignal: signal instanceof AbortSignal });
        return row;
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
      const summary = await runAccounted([], map(() => ++calls), sink);
      expect(calls).to.equal(0);
      expect(sink.rows).to.deep.equal([]);
      expect(finished.finish).to.equal(1);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('keeps input order with concurrency > 1 when calls complete out of order', async () => {
      const calls = new ControlledCalls<number, string>();
      const sink = collect<string>();
      const done = runAccounted(range(8), map(calls.fn, { concurrency: 4 }), sink);
      await calls.called(4);
      await quiesce(() => calls.calls.length);
      expect(calls.calls.length, 'exactly 4 calls started').to.equal(4);
      // Complete 4, 3, 2, 1: nothing may pass row 1.
      for (const i of [3, 2, 1]) calls.resolve(i, `r${calls.calls[i].row}`);
      await quiesce(() => sink.rows.length);
      expect(sink.rows, 'rows 2-4 wait for row 1').to.deep.equal([]);
      calls.resolve(0, 'r1');
      await calls.called(8);
      for (const i of [7, 5, 6, 4]) calls.resolve(i, `r${calls.calls[i].row}`);
      const summary = await done;
      expect(sink.rows).to.deep.equal(range(8).map((x) => `r${x}`));
      expect(calls.maxInFlight).to.equal(4);
      expectAccounted(summary);
    });

    it('keeps order when sync and async results are mixed', async () => {
      const sink = collect<number>();
      const fn = (x: number) => (x % 3 === 0 ? new Promise<number>((resolve) => setImmediate(() => resolve(x))) : x);
      await runAccounted(range(30), map(fn, { concurrency: 3 }), sink);
      expect(sink.rows).to.deep.equal(range(30));
    });

    it('names itself after the function and counts rows in and out', async () => {
      const named = map(double);
      const anonymous = map((x: number) => x);
      expect(named.stage).to.equal('map(double)');
      expect(map(function (x: number) { return x; }).stage).to.equal('map()');
      expect(anonymous.stage).to.equal('map()');
      await runAccounted(range(3), named, collect());
      expect(named.stats).to.deep.equal({ in: 3, out: 3, filtered: 0, rejected: 0 });
    });

    it('is an object-mode Transform usable in a bare stream.pipeline', async () => {
      const source = new CountingSource(10);
      const sink = collect<number>();
      expect(await pipelineResult(source, map(double), sink)).to.equal(null);
      expect(sink.rows).to.deep.equal(range(10).map(double));
    });
  });

  describe('options', () => {
    it('defaults: highWaterMark 16 on both sides, object mode, concurrency 1', async () => {
      const stage = map((x: number) => x);
      expect(stage.readableHighWaterMark).to.equal(16);
      expect(stage.writableHighWaterMark).to.equal(16);
      expect(stage.readableObjectMode).to.equal(true);
      expect(stage.writableObjectMode).to.equal(true);
      stage.destroy();
      // concurrency 1: the second call starts only after the first has settled.
      const calls = new ControlledCalls<number, number>();
      const done = runAccounted(range(3), map(calls.fn), collect());
      await calls.called(1);
      await quiesce(() => calls.calls.length);
      expect(calls.calls.length).to.equal(1);
      for (let i = 0; i < 3; i++) {
        await calls.called(i + 1);
        calls.resolve(i, i);
      }
      await done;
      expect(calls.maxInFlight).to.equal(1);
    });

    it('defaults onError to fail', async () => {
      const error = await rejectionOf(run(range(3), map(failingOn(2).fn), collect()));
      expect(error).to.be.instanceOf(RowError);
    });

    it('passes highWaterMark to both sides', () => {
      const stage = map((x: number) => x, { highWaterMark: 3 });
      expect(stage.readableHighWaterMark).to.equal(3);
      expect(stage.writableHighWaterMark).to.equal(3);
      stage.destroy();
    });

    it('throws the documented TypeError for invalid values, before any stream exists', () => {
      const id = (x: unknown) => x;
      const cases: [() => unknown, string][] = [
        [() => map(1 as never), 'Expected `fn` to be a function, got `1` (number)'],
        [() => map(undefined as never), 'Expected `fn` to be a function, got `undefined` (undefined)'],
        [() => map(id, null as never), 'Expected `map options` to be an object, got `null`'],
        [() => map(id, 4 as never), 'Expected `map options` to be an object, got `4` (number)'],
        [() => map(id, { concurrency: 0 }), 'Expected `concurrency` to be an integer from 1 and up, got `0` (number)'],
        [() => map(id, { concurrency: 1.5 }), 'Expected `concurrency` to be an integer from 1 and up, got `1.5` (number)'],
        [() => map(id, { concurrency: '2' as never }), 'Expected `concurrency` to be an integer from 1 and up, got `2` (string)'],
        [() => map(id, { concurrency: Infinity }), 'Expected `concurrency` to be an integer from 1 and up, got `Infinity` (number)'],
        [() => map(id, { highWaterMark: 0 }), 'Expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
        [() => map(id, { highWaterMark: -1 }), 'Expected `highWaterMark` to be an integer from 1 and up, got `-1` (number)'],
        [() => map(id, { onError: 'ignore' as never }), "Expected `onError` to be 'fail', 'reject' or { replaceWith }, got `ignore` (string)"],
        [() => map(id, { onError: {} as never }), "Expected `onError` to be 'fail', 'reject' or { replaceWith }, got an object"],
        [() => map(id, { onError: { replaceWith: null } }), 'Expected `onError.replaceWith` to be a row or a function, got `null`'],
      ];
      for (const [call, message] of cases) {
        const error = thrownBy(call);
        expect(error, message).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      }
    });

    it('accepts a frozen options object and does not change it', async () => {
      const replaceWith = () => -1;
      const options = Object.freeze({ concurrency: 2, highWaterMark: 4, onError: Object.freeze({ replaceWith }) });
      const sink = collect<number>();
      await runAccounted(range(4), map(failingOn(3).fn, options), sink);
      expect(sink.rows).to.deep.equal([1, 2, -1, 4]);
      expect(options).to.deep.equal({ concurrency: 2, highWaterMark: 4, onError: { replaceWith } });
    });
  });

  describe('backpressure', () => {
    // What a stalled pipeline can hold, from the high-water marks: the source's buffer
    // (hs), the stage's input buffer (h rows, one of them the row whose write is held),
    // its output buffer (h rows), and the rows the stalled sink took (hk).
    const syncBound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    for (const [hs, h, hk] of [[1, 1, 1], [4, 2, 3], [2, 16, 1]]) {
      it(`sync fn, stalled consumer (source ${hs}, stage ${h}, sink ${hk}): pulls exactly ${syncBound(hs, h, hk)} rows, then stops`, async () => {
        const held = await measureHeld(map(double, { highWaterMark: h }), { sourceHighWaterMark: hs, sinkHighWaterMark: hk });
        expect(held.inSink).to.equal(hk);
        expect(held.pulled).to.equal(syncBound(hs, h, hk));
      });
    }

    it('with calls that never settle: exactly `concurrency` in flight, and hs + (h - 1) + concurrency rows pulled', async () => {
      const [hs, h, c] = [3, 4, 5];
      const calls = new ControlledCalls<number, number>();
      const source = new CountingSource(10_000, { highWaterMark: hs });
      const stage = map(calls.fn, { highWaterMark: h, concurrency: c });
      const sink = new StalledSink();
      pipeline(source, stage, sink, () => {});
      await calls.called(c);
      const pulled = await quiesce(() => source.pulled);
      // The limit is reached and holds: c calls, the c-th row's write held back, the
      // input buffer full behind it (h rows counting that one), the source's buffer full.
      expect(calls.calls.length).to.equal(c);
      expect(calls.inFlight).to.equal(c);
      expect(pulled).to.equal(hs + (h - 1) + c);
      await destroyAll(source, stage, sink);
    });

    // Results of async calls arrive after `_transform` returned, so Transform's own check
    // does not see them; the stage takes a new row only while its output buffer is below
    // h, so output + in flight ≤ h + c - 1 (the output is where in-flight rows end up).
    const asyncBound = (hs: number, h: number, c: number, hk: number) => hs + (h - 1) + (h + c - 1) + hk;

    const settling = {
      'in a microtask': () => Promise.resolve(),
      'a turn later': () => new Promise<void>((resolve) => setImmediate(resolve)),
    };
    for (const [when, wait] of Object.entries(settling)) {
      for (const [hs, h, c] of [[1, 1, 2], [2, 3, 4], [4, 16, 8]]) {
        it(`async fn settling ${when}, stalled consumer (source ${hs}, stage ${h}, concurrency ${c}): pulls exactly ${asyncBound(hs, h, c, 1)}, concurrency reached`, async () => {
          let inFlight = 0;
          let maxInFlight = 0;
          const fn = async (x: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            await wait();
            inFlight--;
            return x;
          };
          const held = await measureHeld(map(fn, { highWaterMark: h, concurrency: c }), { sourceHighWaterMark: hs, sinkHighWaterMark: 1 });
          expect(held.pulled).to.equal(asyncBound(hs, h, c, 1));
          expect(maxInFlight).to.equal(c);
        });
      }
    }

    // Regression: with concurrency > 1 the stage used to take a new row for every result,
    // whatever its output held; with an async source every step ran in a microtask, so the
    // 'readable' event (a nextTick) never fired: the first next() never resolved while the
    // output grew without bound. The source gives up after 10,000 rows so this fails fast.
    for (const [hs, h, c] of [[1, 1, 2], [2, 3, 4], [16, 16, 8]]) {
      it(`an async-iterator consumer with concurrency ${c} gets its first row, and the source stops (source ${hs}, stage ${h})`, async () => {
        let yielded = 0;
        async function* rows(): AsyncGenerator<number> {
          for (let i = 1; ; i++) {
            if (++yielded > 10_000) throw new Error('read 10,000 rows ahead of the consumer');
            yield i;
          }
        }
        const source = Readable.from(rows(), { highWaterMark: hs });
        const stage = map(async (x: number) => x, { highWaterMark: h, concurrency: c });
        pipeline(source, stage, () => {});
        const iterator = stage[Symbol.asyncIterator]();
        expect(await iterator.next()).to.deep.equal({ value: 1, done: false });
        const pulled = await quiesce(() => yielded);
        // Both buffers full, nothing beyond what the bound allows (the consumer holds row 1).
        expect([stage.readableLength, stage.writableLength]).to.deep.equal([h, h]);
        expect(pulled).to.be.at.most(asyncBound(hs, h, c, 1));
        await iterator.return!();
        await closed(stage);
      });
    }

    it('slow consumer: rows pulled minus rows acknowledged never exceed the bound, and reach it', async () => {
      const [hs, h, c, hk] = [2, 3, 4, 1];
      const source = new CountingSource(10_000, { highWaterMark: hs });
      const stage = map(async (x: number) => x, { highWaterMark: h, concurrency: c });
      const sink = new StalledSink(hk);
      pipeline(source, stage, sink, () => {});
      const gaps: number[] = [];
      for (let step = 0; step < 60; step++) {
        await quiesce(() => source.pulled);
        gaps.push(source.pulled - sink.acknowledged);
        sink.release();
      }
      expect(Math.max(...gaps)).to.equal(asyncBound(hs, h, c, hk));
      expect(sink.acknowledged).to.equal(60);
      expect(sink.received.slice(0, 60)).to.deep.equal(range(60));
      await destroyAll(source, stage, sink);
    });

    it('control: the same measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(1), { sourceHighWaterMark: 1, sinkHighWaterMark: 1, total: 5_000 });
      expect(held.pulled).to.equal(5_000);
      expect(held.pulled).to.be.greaterThan(asyncBound(1, 1, 1, 1));
    });
  });

  describe('errors', () => {
    it('a throw on the first row rejects run() with a RowError naming stage and row; cause is the original', async () => {
      const { fn, errors } = failingOn(1);
      const stage = map(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('map(explode) failed on row 1: bad row 1');
      expect((error as RowError).stage).to.equal('map(explode)');
      expect((error as RowError).row).to.equal(1);
      expect(error.cause).to.equal(errors.get(1));
      expect(sink.rows).to.deep.equal([]);
      expect(stage.closed, 'stage closed').to.equal(true);
      expect(sink.closed, 'sink closed').to.equal(true);
    });

    it('a throw on a middle row: the rows before it are delivered, then run() rejects', async () => {
      const { fn, errors } = failingOn(3);
      const stage = map(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink));
      expect(error.message).to.equal('map(explode) failed on row 3: bad row 3');
      expect(error.cause).to.equal(errors.get(3));
      expect(sink.rows).to.deep.equal([1, 2]);
      expect(stage.closed).to.equal(true);
      expect(sink.closed).to.equal(true);
    });

    it('an async rejection fails the same way (never as ERR_STREAM_PREMATURE_CLOSE)', async () => {
      const original = new Error('service said no');
      const stage = map(async function call(x: number) {
        if (x === 4) throw original;
        return x;
      }, { concurrency: 3 });
      const before = map((x: number) => x);
      const sink = collect();
      const error = await rejectionOf(run(range(10), before, stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('map(call) failed on row 4: service said no');
      expect((error as { code?: string }).code).to.equal(undefined);
      expect(error.cause).to.equal(original);
      for (const s of [before, stage, sink]) expect(s.closed).to.equal(true);
    });

    it('a non-Error rejection is kept as the cause and named in the message', async () => {
      const error = await rejectionOf(run(range(2), map(async () => Promise.reject('nope')), collect()));
      expect(error.message).to.equal('map() failed on row 1: nope');
      expect(error.cause).to.equal('nope');
    });

    it('a failure waits its turn: earlier rows still in flight are delivered first', async () => {
      const calls = new ControlledCalls<number, number>();
      const sink = collect<number>();
      const done = rejectionOf(run(range(5), map(calls.fn, { concurrency: 3 }), sink));
      await calls.called(3);
      calls.reject(1, new Error('second fails first'));
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, 1);
      const error = await done;
      expect(error.message).to.equal('map(fn) failed on row 2: second fails first');
      expect(sink.rows).to.deep.equal([1]);
    });

    it('returning null or undefined is a RowError (it would end the stream or lose the row)', async () => {
      const nulls = await rejectionOf(run(range(3), map((x: number) => (x === 2 ? null : x)), collect()));
      expect(nulls.message).to.equal('map() failed on row 2: returned null (use filter() to drop rows)');
      const undefs = await rejectionOf(run(range(3), map(async () => undefined), collect()));
      expect(undefs.message).to.equal('map() failed on row 1: returned undefined (use filter() to drop rows)');
    });

    it("onError 'reject' sends rows to the rejects function with reason, stage, index; the summary counts them", async () => {
      const { fn, errors } = failingOn(2, 4);
      const rejects: Reject[] = [];
      const sink = collect();
      const summary = await runAccounted(range(5), map(fn, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([1, 3, 5]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'map(explode)', reason: 'bad row 2', index: 2, row: 2 },
        { stage: 'map(explode)', reason: 'bad row 4', index: 4, row: 4 },
      ]);
      expect(rejects[0].error).to.be.instanceOf(RowError);
      expect(rejects[0].error.cause).to.equal(errors.get(2));
      expect(counts(summary)).to.deep.equal({ read: 5, written: 3, filtered: 0, rejected: 2, stoppedEarly: false });
      expectAccounted(summary);
    });

    it("onError 'reject' with async failures and concurrency keeps rejects and rows in order", async () => {
      const rejects: number[] = [];
      const sink = collect<number>();
      const fn = async (x: number) => {
        await new Promise((resolve) => setImmediate(resolve));
        if (x % 3 === 0) throw new Error(`no ${x}`);
        return x;
      };
      const summary = await runAccounted(range(12), map(fn, { onError: 'reject', concurrency: 4 }), sink, {
        rejects: (r) => void rejects.push(r.index),
      });
      expect(rejects).to.deep.equal([3, 6, 9, 12]);
      expect(sink.rows).to.deep.equal([1, 2, 4, 5, 7, 8, 10, 11]);
      expectAccounted(summary);
    });

    it("onError 'reject' writes a RejectRecord to a rejects Writable", async () => {
      const records: RejectRecord[] = [];
      const rejectsSink = new Writable({
        objectMode: true,
        write(record: RejectRecord, _encoding, callback) {
          records.push(record);
          callback();
        },
      });
      const summary = await runAccounted([{ id: 1 }, { id: 2 }], map((row: { id: number }) => {
        if (row.id === 2) throw new Error('no id 2');
        return row;
      }, { onError: 'reject' }), collect(), { rejects: rejectsSink });
      expect(records).to.deep.equal([{ stage: 'map()', reason: 'no id 2', source: '', line: '', index: 2, row: '{"id":2}' }]);
      expect(rejectsSink.writableFinished).to.equal(true);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 1, filtered: 0, rejected: 1, stoppedEarly: false });
    });

    it("a slow rejects function holds the stage back until the reject is stored", async () => {
      const stored = deferred();
      let rejectsCalled = 0;
      const sink = collect<number>();
      const done = runAccounted(range(4), map(failingOn(1).fn, { onError: 'reject' }), sink, {
        rejects: () => {
          rejectsCalled++;
          return stored.promise;
        },
      });
      await until(() => rejectsCalled === 1, 'the reject');
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      stored.resolve();
      const summary = await done;
      expect(sink.rows).to.deep.equal([2, 3, 4]);
      expectAccounted(summary);
    });

    it('onError { replaceWith: value } substitutes the value', async () => {
      const sink = collect<number>();
      const summary = await runAccounted(range(4), map(failingOn(2, 3).fn, { onError: { replaceWith: 0 } }), sink);
      expect(sink.rows).to.deep.equal([1, 0, 0, 4]);
      expect(counts(summary)).to.deep.equal({ read: 4, written: 4, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith: fn } gets the row and the RowError (async failures too)', async () => {
      const seen: [number, string, unknown][] = [];
      const fn = async (x: number) => {
        if (x === 2) throw new Error('two');
        return x;
      };
      const sink = collect<number>();
      await runAccounted(range(3), map(fn, {
        concurrency: 2,
        onError: {
          replaceWith: (row: number, error: Error) => {
            seen.push([row, error.message, (error.cause as Error).message]);
            return -row;
          },
        },
      }), sink);
      expect(sink.rows).to.deep.equal([1, -2, 3]);
      expect(seen).to.deep.equal([[2, 'map(fn) failed on row 2: two', 'two']]);
    });

    it('a replaceWith that throws or returns null fails the stage with a RowError', async () => {
      const oops = new Error('oops');
      const thrown = await rejectionOf(run(range(3), map(failingOn(2).fn, { onError: { replaceWith: () => { throw oops; } } }), collect()));
      expect(thrown).to.be.instanceOf(RowError);
      expect(thrown.message).to.equal('map(explode) failed on row 2: replaceWith failed: oops');
      expect(thrown.cause).to.equal(oops);
      const nulled = await rejectionOf(run(range(3), map(failingOn(2).fn, { onError: { replaceWith: () => null as never } }), collect()));
      expect(nulled.message).to.equal('map(explode) failed on row 2: replaceWith failed: returned null');
    });

    it('more rejects than maxRejects fail with a RejectLimitError; every stage closes', async () => {
      const rejects: number[] = [];
      const stage = map(failingOn(1, 2, 3, 4).fn, { onError: 'reject' });
      const sink = collect();
      const error = await rejectionOf(run(range(6), stage, sink, { rejects: (r) => void rejects.push(r.index), maxRejects: 2 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect((error as RejectLimitError).maxRejects).to.equal(2);
      expect(error.message).to.equal('more than 2 row(s) rejected; the last: map(explode) failed on row 3: bad row 3');
      expect(error.cause).to.be.instanceOf(RowError);
      expect(rejects).to.deep.equal([1, 2]);
      expect(stage.closed).to.equal(true);
      expect(sink.closed).to.equal(true);
    });

    it("onError 'reject' without a rejects target fails: nothing receives rejects", async () => {
      const stage = map(failingOn(2).fn, { onError: 'reject' });
      const error = await rejectionOf(run(range(3), stage, collect()));
      expect(error.message).to.contain('map(explode) failed on row 2: bad row 2');
      expect(error.message).to.contain('nothing receives rejects');
      expect(error.cause).to.be.instanceOf(RowError);
      expect(stage.closed).to.equal(true);
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'; in-flight calls see signal.aborted", async () => {
      const calls = new ControlledCalls<number, number>();
      const stage = map(calls.fn, { concurrency: 2 });
      const events = countEvents(stage);
      const source = new CountingSource(100);
      const sink = collect<number>();
      const result = pipelineResult(source, stage, sink);
      await calls.called(1);
      calls.resolve(0, 1);
      await calls.called(3);
      const inFlight = calls.calls.slice(1, 3);
      expect(inFlight.map((c) => c.context.signal.aborted)).to.deep.equal([false, false]);
      const abortEvents = inFlight.map((c) => new Promise((resolve) => c.context.signal.addEventListener('abort', resolve, { once: true })));
      stage.destroy();
      await closed(stage);
      await Promise.all(abortEvents);
      expect(inFlight.map((c) => c.context.signal.aborted)).to.deep.equal([true, true]);
      expect(inFlight[0].context.signal.reason.message).to.equal('map(fn) was destroyed');
      // A call that settles after the destroy is dropped quietly.
      calls.resolve(1, 2);
      calls.resolve(2, 3);
      expect((await result)?.message).to.equal('Premature close');
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([1]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
      expect(source.destroyed && sink.destroyed).to.equal(true);
    });

    it("destroying with an error: pipeline fails with it, 'error' and 'close' once", async () => {
      const stage = map(double);
      const events = countEvents(stage);
      const sink = new StalledSink();
      const result = pipelineResult(new CountingSource(100), stage, sink);
      await until(() => sink.received.length === 1, 'the first row');
      const failure = new Error('downstream gone');
      stage.destroy(failure);
      expect(await result).to.equal(failure);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 1 });
    });

    it('an abort signal given to run() aborts in-flight calls and rejects with an AbortError', async () => {
      const calls = new ControlledCalls<number, number>();
      const controller = new AbortController();
      const stage = map(calls.fn, { concurrency: 3 });
      const done = rejectionOf(run(range(10), stage, collect(), { signal: controller.signal }));
      await calls.called(3);
      controller.abort(new Error('user cancelled'));
      const error = await done;
      expect(error).to.be.instanceOf(AbortError);
      expect(calls.calls.map((c) => c.context.signal.aborted)).to.deep.equal([true, true, true]);
      expect(stage.closed).to.equal(true);
    });

    it('for await … break over pipe() closes the stage and runs the generator\'s finally', async () => {
      const gen = trackedGenerator();
      const stage = map(async (x: number) => x * 10, { concurrency: 2 });
      const seen: number[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 3) break;
      }
      expect(seen).to.deep.equal([10, 20, 30]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
      expect(gen.state.finallyRan).to.equal(true);
    });
  });
});
