import { expect } from 'chai';
import { Writable } from 'node:stream';
import { AbortError, RejectLimitError, RowError, pipe, run, type Reject, type RejectRecord } from '../../lib/index.js';
import { failingOn, type RowOperationSubject } from './row-operation-subject.js';
import {
  ControlledCalls,
  CountingSource,
  StalledSink,
  closed,
  collect,
  countEvents,
  counts,
  deferred,
  expectAccounted,
  pipelineResult,
  quiesce,
  range,
  rejectionOf,
  trackedGenerator,
  until,
  runAccounted,
} from './streams.js';

/** The contract's errors: a failing function, the `onError` policies and `maxRejects`. */
export function describeErrors(subject: RowOperationSubject): void {
  const { name, make, pass } = subject;
  describe('errors', () => {
    it('a throw on the first row rejects run() with a RowError naming stage and row; cause is the original', async () => {
      const { fn, errors } = failingOn(subject, 1);
      const stage = make(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal(`${name}(explode) failed on row 1: bad row 1`);
      expect((error as RowError).stage).to.equal(`${name}(explode)`);
      expect((error as RowError).row).to.equal(1);
      expect(error.cause).to.equal(errors.get(1));
      expect(sink.rows).to.deep.equal([]);
      expect(stage.closed, 'stage closed').to.equal(true);
      expect(sink.closed, 'sink closed').to.equal(true);
    });

    it('a throw on a middle row: the rows before it are delivered, then run() rejects', async () => {
      const { fn, errors } = failingOn(subject, 3);
      const stage = make(fn);
      const sink = collect();
      const error = await rejectionOf(run(range(5), stage, sink));
      expect(error.message).to.equal(`${name}(explode) failed on row 3: bad row 3`);
      expect((error as RowError).row).to.equal(3);
      expect(error.cause).to.equal(errors.get(3));
      expect(sink.rows).to.deep.equal([1, 2]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('an async rejection fails the same way (never as ERR_STREAM_PREMATURE_CLOSE)', async () => {
      const original = new Error('service said no');
      const stage = make(async function call(x: number) {
        if (x === 4) throw original;
        return pass(x);
      }, { concurrency: 3 });
      const before = make(pass);
      const sink = collect();
      const error = await rejectionOf(run(range(10), before, stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal(`${name}(call) failed on row 4: service said no`);
      expect((error as { code?: string }).code).to.equal(undefined);
      expect(error.cause).to.equal(original);
      expect(sink.rows).to.deep.equal([1, 2, 3]);
      for (const s of [before, stage, sink]) expect(s.closed).to.equal(true);
    });

    it('a non-Error rejection is kept as the cause and named in the message', async () => {
      const error = await rejectionOf(run(range(2), make(async () => Promise.reject('nope')), collect()));
      expect(error.message).to.equal(`${name}() failed on row 1: nope`);
      expect(error.cause).to.equal('nope');
    });

    it('a failure waits its turn: earlier rows still in flight are delivered first', async () => {
      const calls = new ControlledCalls<number, unknown>();
      const sink = collect<number>();
      const done = rejectionOf(run(range(5), make(calls.fn, { concurrency: 3 }), sink));
      await calls.called(3);
      calls.reject(1, new Error('second fails first'));
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, pass(1));
      const error = await done;
      expect(error.message).to.equal(`${name}(fn) failed on row 2: second fails first`);
      expect(sink.rows).to.deep.equal([1]);
    });

    it("onError 'reject' sends rows to the rejects function with reason, stage, index; the summary counts them", async () => {
      const { fn, errors } = failingOn(subject, 2, 4);
      const rejects: Reject[] = [];
      const sink = collect();
      const summary = await runAccounted(range(5), make(fn, { onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(sink.rows).to.deep.equal([1, 3, 5]);
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: `${name}(explode)`, reason: 'bad row 2', index: 2, row: 2 },
        { stage: `${name}(explode)`, reason: 'bad row 4', index: 4, row: 4 },
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
        return pass(x);
      };
      const summary = await runAccounted(range(12), make(fn, { onError: 'reject', concurrency: 4 }), sink, {
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
      const summary = await runAccounted(range(2), make((x) => {
        if (x === 2) throw new Error('no 2');
        return pass(x);
      }, { onError: 'reject' }), collect(), { rejects: rejectsSink });
      expect(records).to.deep.equal([{ stage: `${name}()`, reason: 'no 2', source: '', line: '', index: 2, row: '2' }]);
      expect(rejectsSink.writableFinished).to.equal(true);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 1, filtered: 0, rejected: 1, stoppedEarly: false });
    });

    it('a slow rejects function holds the stage back until the reject is stored', async () => {
      const stored = deferred();
      let rejectsCalled = 0;
      const sink = collect<number>();
      const done = runAccounted(range(4), make(failingOn(subject, 1).fn, { onError: 'reject' }), sink, {
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
      const summary = await runAccounted(range(4), make(failingOn(subject, 2, 3).fn, { onError: { replaceWith: 0 } }), sink);
      expect(sink.rows).to.deep.equal([1, 0, 0, 4]);
      expect(counts(summary)).to.deep.equal({ read: 4, written: 4, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('onError { replaceWith: fn } gets the row and the RowError, for sync and async failures', async () => {
      const seen: [number, string, unknown][] = [];
      const replaceWith = (row: number, error: Error) => {
        expect(error).to.be.instanceOf(RowError);
        seen.push([row, error.message, (error.cause as Error).message]);
        return -row;
      };
      const fn = async (x: number) => {
        if (x === 2) throw new Error('two');
        return pass(x);
      };
      const fromAsync = collect<number>();
      await runAccounted(range(3), make(fn, { concurrency: 2, onError: { replaceWith } }), fromAsync);
      expect(fromAsync.rows).to.deep.equal([1, -2, 3]);
      expect(seen).to.deep.equal([[2, `${name}(fn) failed on row 2: two`, 'two']]);
      seen.length = 0;
      const fromSync = collect<number>();
      const summary = await runAccounted(range(3), make(failingOn(subject, 1, 3).fn, { onError: { replaceWith } }), fromSync);
      expect(fromSync.rows).to.deep.equal([-1, 2, -3]);
      expect(seen.map(([row, , cause]) => [row, cause])).to.deep.equal([[1, 'bad row 1'], [3, 'bad row 3']]);
      expectAccounted(summary);
    });

    it('a replaceWith that throws or returns null fails the stage with a RowError', async () => {
      const oops = new Error('oops');
      const thrown = await rejectionOf(run(range(3), make(failingOn(subject, 2).fn, { onError: { replaceWith: () => { throw oops; } } }), collect()));
      expect(thrown).to.be.instanceOf(RowError);
      expect(thrown.message).to.equal(`${name}(explode) failed on row 2: replaceWith failed: oops`);
      expect(thrown.cause).to.equal(oops);
      const nulled = await rejectionOf(run(range(3), make(failingOn(subject, 2).fn, { onError: { replaceWith: () => null as never } }), collect()));
      expect(nulled.message).to.equal(`${name}(explode) failed on row 2: replaceWith failed: returned null`);
    });

    it('more rejects than maxRejects fail with a RejectLimitError; every stage closes', async () => {
      const rejects: number[] = [];
      const stage = make(failingOn(subject, 1, 2, 3, 4).fn, { onError: 'reject' });
      const sink = collect();
      const error = await rejectionOf(run(range(6), stage, sink, { rejects: (r) => void rejects.push(r.index), maxRejects: 2 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect((error as RejectLimitError).maxRejects).to.equal(2);
      expect(error.message).to.equal(`more than 2 row(s) rejected; the last: ${name}(explode) failed on row 3: bad row 3`);
      expect(error.cause).to.be.instanceOf(RowError);
      expect(rejects).to.deep.equal([1, 2]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('maxRejects 0: the first reject fails with a RejectLimitError', async () => {
      const stage = make(failingOn(subject, 1, 2).fn, { onError: 'reject' });
      const error = await rejectionOf(run(range(3), stage, collect(), { rejects: () => {}, maxRejects: 0 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal(`more than 0 row(s) rejected; the last: ${name}(explode) failed on row 1: bad row 1`);
      expect(stage.closed).to.equal(true);
    });

    it("onError 'reject' without a rejects target fails: nothing receives rejects", async () => {
      const stage = make(failingOn(subject, 2).fn, { onError: 'reject' });
      const error = await rejectionOf(run(range(3), stage, collect()));
      expect(error.message).to.contain(`${name}(explode) failed on row 2: bad row 2`);
      expect(error.message).to.contain('nothing receives rejects');
      expect(error.cause).to.be.instanceOf(RowError);
      expect(stage.closed).to.equal(true);
    });
  });
}

/** The contract's early destroy: by the stage, by an error, by run()'s signal, by a consumer's break. */
export function describeEarlyDestroy(subject: RowOperationSubject): void {
  const { name, make, pass } = subject;
  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'; in-flight calls see signal.aborted", async () => {
      const calls = new ControlledCalls<number, unknown>();
      const stage = make(calls.fn, { concurrency: 2 });
      const events = countEvents(stage);
      const source = new CountingSource(100);
      const sink = collect<number>();
      const result = pipelineResult(source, stage, sink);
      await calls.called(1);
      calls.resolve(0, pass(1));
      await calls.called(3);
      const inFlight = calls.calls.slice(1, 3);
      expect(inFlight.map((c) => c.context.signal.aborted)).to.deep.equal([false, false]);
      const abortEvents = inFlight.map((c) => new Promise((resolve) => c.context.signal.addEventListener('abort', resolve, { once: true })));
      stage.destroy();
      await closed(stage);
      await Promise.all(abortEvents);
      expect(inFlight.map((c) => c.context.signal.aborted)).to.deep.equal([true, true]);
      expect(inFlight[0].context.signal.reason.message).to.equal(`${name}(fn) was destroyed`);
      // A call that settles after the destroy is dropped quietly.
      calls.resolve(1, pass(2));
      calls.resolve(2, pass(3));
      expect((await result)?.message).to.equal('Premature close');
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([1]);
      expect(stage.stats.out).to.equal(1);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
      expect(source.destroyed && sink.destroyed).to.equal(true);
    });

    it("destroying with an error: pipeline fails with it, 'error' and 'close' once", async () => {
      const stage = make(pass);
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
      const calls = new ControlledCalls<number, unknown>();
      const controller = new AbortController();
      const stage = make(calls.fn, { concurrency: 3 });
      const done = rejectionOf(run(range(10), stage, collect(), { signal: controller.signal }));
      await calls.called(3);
      controller.abort(new Error('user cancelled'));
      const error = await done;
      expect(error).to.be.instanceOf(AbortError);
      expect(calls.calls.map((c) => c.context.signal.aborted)).to.deep.equal([true, true, true]);
      expect(stage.closed).to.equal(true);
    });

    it("for await … break over pipe() closes the stage and runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = make(async (x) => pass(x), { concurrency: 2 });
      const seen: number[] = [];
      for await (const row of pipe(gen.source, stage)) {
        seen.push(row);
        if (seen.length === 3) break;
      }
      expect(seen).to.deep.equal([1, 2, 3]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
      expect(gen.state.finallyRan).to.equal(true);
    });
  });
}
