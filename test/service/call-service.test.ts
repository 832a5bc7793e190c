/**
 * callService() with in-process service functions the test controls (no HTTP): batching,
 * order, concurrency, backpressure, retries, isolation, rejects, timeouts and abort.
 * The same stage against a real misbehaving HTTP server is in test/service/post-json.test.ts.
 */
import { expect } from 'chai';
import { pipeline } from 'node:stream';
import { Readable } from 'node:stream';
import {
  AbortError, BatchError, RateLimiter, RetryBudget, RowError, ServiceError, callService, csv, itemFailed, run, take,
  type CallContext, type ItemFailure, type Reject,
} from '../../lib/index.js';
import {
  ControlledCalls, CountingSource, StalledSink, closed, collect, destroyAll, expectAccounted, ignoresBackpressure,
  expectTypeErrors, measureHeld, quiesce, range, rejectionOf, until,
} from '../helpers/streams.js';

/** A service function whose calls (one per batch) stay pending until the test settles them. */
class ControlledService extends ControlledCalls<number[], readonly (unknown | ItemFailure)[], CallContext> {
  /** Answers call i with each row × 10. */
  answer(i: number): void {
    this.calls[i].result.resolve(this.calls[i].row.map((r) => r * 10));
  }
}

const times10 = async function times10(rows: number[]): Promise<number[]> {
  return rows.map((r) => r * 10);
};

const status = (s: number, message = `HTTP ${s}`) => new ServiceError(message, { kind: 'status', status: s, retryable: s === 429 || s >= 500 });

/** Rejects go here; `run` counts them. */
function rejectStore(): { rejects: Reject[]; target: (r: Reject) => void } {
  const rejects: Reject[] = [];
  return { rejects, target: (r) => void rejects.push(r) };
}

describe('callService()', () => {
  describe('behaviour', () => {
    it('one call per batch: calls = ⌈rows / batchSize⌉, results replace the rows, in order', async () => {
      const batches: number[][] = [];
      const stage = callService(async function lookup(rows: number[]) {
        batches.push(rows);
        return rows.map((r) => `r${r}`);
      }, { batchSize: 10 });
      const sink = collect<string>();
      const summary = await run(range(95), stage, sink);
      expect(batches.length).to.equal(Math.ceil(95 / 10));
      expect(batches.map((b) => b.length)).to.deep.equal([10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
      expect(sink.rows).to.deep.equal(range(95).map((r) => `r${r}`));
      expect(stage.stats).to.deep.equal({ in: 95, out: 95, filtered: 0, rejected: 0 });
      expect(summary).to.include({ read: 95, written: 95, rejected: 0 });
      expect(stage.metrics).to.deep.include({ batches: 10, calls: 10, retries: 0, rowsSent: 95, rowsPerCall: 9.5, inFlight: 0, flushes: { size: 9, bytes: 0, time: 0, end: 1 } });
      expect(stage.stage).to.equal('callService(lookup)');
    });

    it('merge builds the output row from the row, its result and its index', async () => {
      const sink = collect<{ id: number; owner: string; index: number }>();
      await run(range(5).map((id) => ({ id })), callService(async (rows: { id: number }[]) => rows.map((r) => `owner${r.id}`), {
        batchSize: 2, merge: (row, owner, index) => ({ ...row, owner, index }),
      }), sink);
      expect(sink.rows).to.deep.equal(range(5).map((id, i) => ({ id, owner: `owner${id}`, index: i + 1 })));
    });

    it('empty input: no call at all', async () => {
      let calls = 0;
      const summary = await run([], callService(async (rows: number[]) => {
        calls++;
        return rows;
      }), collect());
      expect(calls).to.equal(0);
      expect(summary).to.include({ read: 0, written: 0 });
    });

    it('passes { signal, attempt, key, batch }: a key per batch, a live signal', async () => {
      const seen: { attempt: number; key: string; batch: number; aborted: boolean }[] = [];
      await run(range(6), callService(async (rows: number[], { signal, attempt, key, batch }) => {
        seen.push({ attempt, key, batch, aborted: signal.aborted });
        return rows;
      }, { batchSize: 2 }), collect());
      expect(seen.map((s) => [s.attempt, s.batch, s.aborted])).to.deep.equal([[1, 1, false], [1, 2, false], [1, 3, false]]);
      expect(new Set(seen.map((s) => s.key)).size).to.equal(3);
      for (const { key } of seen) expect(key).to.match(/^[0-9a-f-]{36}$/);
    });

    it('ordered (default): a later batch that completes first waits for the earlier ones', async () => {
      const service = new ControlledService();
      const sink = collect<number>();
      const done = run(range(6), callService(service.fn, { batchSize: 2, concurrency: 3 }), sink);
      await service.called(3);
      service.answer(2);
      service.answer(1);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      service.answer(0);
      await done;
      expect(sink.rows).to.deep.equal(range(6).map((r) => r * 10));
    });

    it('ordered: false lets each batch out as its call completes (order kept within a batch)', async () => {
      const service = new ControlledService();
      const sink = collect<number>();
      const done = run(range(6), callService(service.fn, { batchSize: 2, concurrency: 3, ordered: false }), sink);
      await service.called(3);
      service.answer(2);
      await until(() => sink.rows.length === 2, 'batch 3');
      service.answer(0);
      service.answer(1);
      await done;
      expect(sink.rows).to.deep.equal([50, 60, 10, 20, 30, 40]);
    });

    it('a sync service function works too', async () => {
      const sink = collect<number>();
      await run(range(4), callService((rows: number[]) => rows.map((r) => -r), { batchSize: 3 }), sink);
      expect(sink.rows).to.deep.equal([-1, -2, -3, -4]);
    });

    it('maxWaitMs: an idle source does not hold rows back; the flush reason is counted', async () => {
      const source = new (await import('node:stream')).PassThrough({ objectMode: true });
      const service = new ControlledService();
      const stage = callService(service.fn, { batchSize: 100, maxWaitMs: 20 });
      const sink = collect<number>();
      const done = run(source, stage, sink);
      source.write(1);
      source.write(2);
      await service.called(1);
      expect(service.calls[0].row).to.deep.equal([1, 2]);
      service.answer(0);
      source.end(3);
      await service.called(2);
      service.answer(1);
      await done;
      expect(sink.rows).to.deep.equal([10, 20, 30]);
      expect(stage.metrics.flushes).to.deep.equal({ size: 0, bytes: 0, time: 1, end: 1 });
    });

    it('before a take(n): no paid call for rows past the limit, and a call failing past it does not fail the run', async () => {
      const service = new ControlledService();
      const stage = callService(service.fn, { batchSize: 10, concurrency: 3 });
      const sink = collect<number>();
      const done = run(range(1000), stage, take(15), sink);
      await service.called(3); // rows 1–30 in flight; rows 31–40 and more wait
      service.answer(0);
      service.answer(1);
      await until(() => sink.rows.length === 15, 'take has its 15 rows');
      service.calls[2].result.reject(status(400)); // rows 21–30: past the limit
      const summary = await done;
      expect(sink.rows).to.deep.equal(range(15).map((r) => r * 10));
      // Before: the batches already filled were sent after the limit, and the 400 failed the run.
      expect(service.calls.length).to.equal(3);
      expect(summary).to.deep.include({ written: 15, rejected: 0, stoppedEarly: true });
      expect(summary.read).to.equal(summary.written + summary.filtered);
      expect(stage.stats.filtered).to.be.at.least(15); // 16–30, and whatever was buffered
    });
  });

  describe('concurrency and backpressure', () => {
    it('never more than `concurrency` calls at once, and that many are reached', async () => {
      for (const concurrency of [1, 3, 8]) {
        const service = new ControlledService();
        const stage = callService(service.fn, { batchSize: 5, concurrency });
        const done = run(range(200), stage, collect());
        let answered = 0;
        while (answered < 40) {
          await service.called(answered + 1);
          await quiesce(() => service.calls.length);
          expect(service.inFlight).to.be.at.most(concurrency);
          expect(stage.metrics.inFlight, 'live metric').to.equal(service.inFlight);
          service.answer(answered++);
        }
        await done;
        expect(service.maxInFlight, `concurrency ${concurrency}`).to.equal(concurrency);
        expect(stage.metrics.maxInFlight).to.equal(concurrency);
      }
    });

    // Stalled: the source's buffer (hs), the stage's input buffer (16 rows, all waiting
    // behind a held write but the one that closed the last batch), concurrency + 1
    // batches (all delivered into the output or waiting), and the sink's rows.
    it('a stalled consumer stops new calls, then the source: rows pulled stay bounded', async () => {
      const [hs, size, concurrency] = [4, 10, 2];
      let calls = 0;
      const stage = callService(async (rows: number[]) => {
        calls++;
        return rows;
      }, { batchSize: size, concurrency });
      const held = await measureHeld(stage, { sourceHighWaterMark: hs, sinkHighWaterMark: 1, total: 100_000 });
      const bound = hs + 16 + size * (concurrency + 1) + 1;
      expect(held.pulled).to.be.at.most(bound);
      expect(held.pulled).to.be.at.least(size * (concurrency + 1));
      expect(calls).to.be.at.most(concurrency + 2);
    });

    it('control: the measurement catches a stage that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(16), { sourceHighWaterMark: 4, sinkHighWaterMark: 1, total: 5_000 });
      expect(held.pulled).to.be.greaterThan(4 + 16 + 10 * 3 + 1);
    });

    it('TESTPLAN B12 (scaled): slow service and slow consumer, rows pulled − rows acknowledged ≤ batchSize × (concurrency + 1) + buffers', async () => {
      const [size, concurrency, hwm] = [50, 2, 16];
      const source = new CountingSource(20_000, { highWaterMark: 16 });
      const service = new ControlledService();
      const stage = callService(service.fn, { batchSize: size, concurrency });
      const sink = new StalledSink<number>(1);
      pipeline(source, stage, sink, () => {});
      const gaps: number[] = [];
      let answered = 0;
      for (let step = 0; step < 1_500; step++) {
        await quiesce(() => source.pulled + service.calls.length + sink.received.length);
        gaps.push(source.pulled - sink.acknowledged);
        if (answered < service.calls.length && step % 3 === 0) service.answer(answered++);
        else sink.release();
      }
      expect(answered).to.be.at.least(25);
      // The source's buffer (16), the stage's input (its high-water mark), the batches in
      // flight or delivered plus the one being filled, what the output holds below its
      // high-water mark when a batch lands, and the sink's one row.
      const bound = 16 + hwm + size * (concurrency + 1) + (hwm - 1) + 1;
      expect(Math.max(...gaps)).to.be.at.most(bound);
      expect(Math.max(...gaps), 'the bound is nearly reached').to.be.at.least(size * (concurrency + 1));
      await destroyAll(source, stage, sink);
    });
  });

  describe('failures', () => {
    it("a permanent error fails the pipeline with a BatchError naming the batch's first and last source lines", async () => {
      const text = 'id\n' + range(10).map(String).join('\n') + '\n';
      const { tempDir } = await import('../helpers/files.js');
      const dir = await tempDir();
      try {
        const file = await dir.write('ids.csv', text);
        const cause = status(400, 'HTTP 400: plate 7 is not a plate');
        const stage = callService(async function registry(rows: string[][]) {
          if (rows.some((r) => r[0] === '7')) throw cause;
          return rows.map((r) => r[0]);
        }, { batchSize: 3 });
        const sink = collect<string>();
        const error = await rejectionOf(run(csv.read(file), stage, sink)) as unknown as BatchError;
        expect(error).to.be.instanceOf(BatchError);
        expect(error.message).to.equal(`callService(registry) failed on batch 3 (rows 7–9; ${file}, lines 8–10) after 1 attempt(s): HTTP 400: plate 7 is not a plate (not retryable)`);
        expect(error).to.include({ stage: 'callService(registry)', batch: 3, firstRow: 7, lastRow: 9, attempts: 1 });
        expect(error.first).to.deep.equal({ source: file, line: 8 });
        expect(error.cause).to.equal(cause);
        // Earlier batches were delivered first; no call started after the failure was known.
        expect(sink.rows).to.deep.equal(['1', '2', '3', '4', '5', '6']);
      } finally {
        await dir.remove();
      }
    });

    it("onError: 'reject' sends each row of a failed batch to the reject channel with the reason; in = out + rejected", async () => {
      const store = rejectStore();
      const stage = callService(async (rows: number[]) => {
        if (rows.includes(5)) throw status(422, 'HTTP 422 Unprocessable');
        return rows;
      }, { batchSize: 4, onError: 'reject' });
      const sink = collect<number>();
      const summary = await run(range(10), stage, sink, { rejects: store.target });
      expect(sink.rows).to.deep.equal([1, 2, 3, 4, 9, 10]);
      expect(store.rejects.map((r) => [r.row, r.index])).to.deep.equal([[5, 5], [6, 6], [7, 7], [8, 8]]);
      expect(store.rejects[0].reason).to.equal('HTTP 422 Unprocessable (not retryable)');
      expect(store.rejects[0].error).to.be.instanceOf(BatchError);
      expect(summary).to.include({ read: 10, written: 6, rejected: 4 });
      expectAccounted(summary);
      expect(stage.metrics).to.include({ rejectedRows: 4, failedBatches: 1, calls: 3 });
    });

    it("'reject' without a rejects target fails instead of dropping rows unseen", async () => {
      const error = await rejectionOf(run(range(3), callService(async () => {
        throw status(400);
      }, { onError: 'reject' }), collect()));
      expect(error.message).to.include('nothing receives rejects');
    });

    it('a result array of the wrong length is an error, not silent loss (and is not retried)', async () => {
      let calls = 0;
      const stage = callService(async function short(rows: number[]) {
        calls++;
        return rows.slice(1);
      }, { batchSize: 4 });
      const error = await rejectionOf(run(range(4), stage, collect()));
      expect(error).to.be.instanceOf(BatchError);
      expect(error.message).to.equal('callService(short) failed on batch 1 (rows 1–4) after 1 attempt(s): the service returned 3 result(s) for 4 row(s) (not retryable)');
      expect(calls).to.equal(1);
      const notArray = await rejectionOf(run(range(2), callService(async () => ({ rows: [] }) as never), collect()));
      expect(notArray.message).to.include('the service function returned object, not an array of results');
    });

    it('a merge that throws or gives null fails that row with a RowError (or rejects it)', async () => {
      const error = await rejectionOf(run(range(3), callService(times10, { merge: (row, result) => (row === 2 ? (null as never) : result) }), collect()));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('callService(times10) failed on row 2: merge returned null');
      const store = rejectStore();
      const sink = collect<number>();
      await run(range(3), callService(times10, { onError: 'reject', merge: (row, result) => {
        if (row === 2) throw new Error('cannot merge');
        return result;
      } }), sink, { rejects: store.target });
      expect(sink.rows).to.deep.equal([10, 30]);
      expect(store.rejects.map((r) => [r.row, r.reason])).to.deep.equal([[2, 'cannot merge']]);
    });

    it('an unknown error (a bug) is not retried by default', async () => {
      let calls = 0;
      const error = await rejectionOf(run(range(3), callService(async () => {
        calls++;
        throw new TypeError('x is not a function');
      }), collect()));
      expect(calls).to.equal(1);
      expect(error.message).to.include('x is not a function (not retryable)');
    });
  });

  describe('retries', () => {
    it('retries transient errors with the same key and a growing attempt, then succeeds', async () => {
      const seen: { attempt: number; key: string; batch: number }[] = [];
      const stage = callService(async (rows: number[], { attempt, key, batch }) => {
        seen.push({ attempt, key, batch });
        if (batch === 2 && attempt < 3) throw status(503);
        return rows;
      }, { batchSize: 2, retries: { attempts: 3, baseMs: 1 } });
      const sink = collect<number>();
      await run(range(6), stage, sink);
      expect(sink.rows).to.deep.equal(range(6));
      const second = seen.filter((s) => s.batch === 2);
      expect(second.map((s) => s.attempt)).to.deep.equal([1, 2, 3]);
      expect(new Set(second.map((s) => s.key)).size).to.equal(1);
      expect(new Set(seen.map((s) => s.key)).size).to.equal(3);
      expect(stage.metrics).to.include({ calls: 5, retries: 2 });
    });

    it('gives up after `attempts` and says so', async () => {
      let calls = 0;
      const error = await rejectionOf(run(range(2), callService(async () => {
        calls++;
        throw status(503, 'HTTP 503 Service Unavailable');
      }, { retries: { attempts: 4, baseMs: 0 } }), collect()));
      expect(calls).to.equal(4);
      expect(error.message).to.equal('callService() failed on batch 1 (rows 1–2) after 4 attempt(s): HTTP 503 Service Unavailable (gave up after 4 attempt(s))');
    });

    it('TESTPLAN D26: with a service failing every call, retries stop when the shared budget is spent', async () => {
      const budget = new RetryBudget({ capacity: 50, retryCost: 5 });
      let calls = 0;
      const store = rejectStore();
      const stage = callService(async () => {
        calls++;
        throw status(500);
      }, { batchSize: 1, concurrency: 4, onError: 'reject', retries: { attempts: 100, baseMs: 0, budget } });
      const summary = await run(range(30), stage, collect(), { rejects: store.target });
      expect(stage.metrics.retries).to.equal(10);
      expect(calls).to.equal(30 + 10);
      expect(summary.rejected).to.equal(30);
      expect(store.rejects.filter((r) => r.reason.includes('the retry budget is spent')).length).to.be.greaterThan(15);
    });
  });

  describe('poison rows (isolate)', () => {
    it('splits a permanently failed batch in halves: only the bad rows are rejected, within the extra-call bound', async () => {
      const bad = new Set([6, 13]);
      const calls: number[][] = [];
      const store = rejectStore();
      const stage = callService(async (rows: number[], { key }) => {
        calls.push(rows);
        if (rows.some((r) => bad.has(r))) throw status(400, `HTTP 400 (key ${key.length > 36 ? 'split' : 'whole'})`);
        return rows;
      }, { batchSize: 16, onError: 'reject', isolate: true });
      const sink = collect<number>();
      const summary = await run(range(16), stage, sink, { rejects: store.target });
      expect(sink.rows).to.deep.equal(range(16).filter((r) => !bad.has(r)));
      expect(store.rejects.map((r) => r.row)).to.deep.equal([6, 13]);
      expect(store.rejects[0].reason).to.equal('HTTP 400 (key split) (not retryable)');
      expect(calls.length - 1).to.equal(stage.metrics.isolationCalls);
      expect(stage.metrics.isolationCalls).to.be.at.most(4 * Math.log2(16));
      expectAccounted(summary);
    });

    it('stops splitting at maxExtraCalls: the rest of the part fails whole, with the reason', async () => {
      const store = rejectStore();
      const stage = callService(async (rows: number[]) => {
        if (rows.includes(1)) throw status(400, 'HTTP 400');
        return rows;
      }, { batchSize: 8, onError: 'reject', isolate: { maxExtraCalls: 2 } });
      const sink = collect<number>();
      await run(range(8), stage, sink, { rejects: store.target });
      expect(sink.rows).to.deep.equal([5, 6, 7, 8]);
      expect(store.rejects.map((r) => r.row)).to.deep.equal([1, 2, 3, 4]);
      expect(store.rejects[0].reason).to.equal('HTTP 400 (not retryable; not split further: maxExtraCalls (2) reached)');
      expect(stage.metrics.calls).to.equal(3);
    });

    it("with onError 'fail', the error names the isolated row", async () => {
      const error = await rejectionOf(run(range(8), callService(async (rows: number[]) => {
        if (rows.includes(6)) throw status(400, 'bad plate');
        return rows;
      }, { batchSize: 8, isolate: true }), collect()));
      expect(error.message).to.equal('callService() failed on batch 1 (row 6) after 1 attempt(s): bad plate (not retryable)');
    });

    it('transient failures are retried, not split', async () => {
      let calls = 0;
      await run(range(8), callService(async (rows: number[], { attempt }) => {
        calls++;
        if (attempt === 1) throw status(503);
        return rows;
      }, { batchSize: 8, isolate: true, retries: { baseMs: 0 } }), collect());
      expect(calls).to.equal(2);
    });
  });

  describe('per-item failure (TESTPLAN D25)', () => {
    /** Items fail as `fails(row, attempt)` says (a marker, or nothing); every call is logged. */
    function partial(fails: (row: number, attempt: number) => ItemFailure | undefined) {
      const calls: { rows: number[]; attempt: number; key: string }[] = [];
      const fn = async function partial(rows: number[], { attempt, key }: CallContext) {
        calls.push({ rows, attempt, key });
        return rows.map((r) => fails(r, attempt) ?? r * 10);
      };
      return { calls, fn };
    }
    const busy = () => itemFailed('busy', { retryable: true });

    it('TESTPLAN D25: only the failed items go again (attempt 2, key `key.r2`); each row comes out once, in order, merged with its own result', async () => {
      const service = partial((r, attempt) => ((r === 2 && attempt === 1) || (r === 5 && attempt < 3) ? busy() : undefined));
      const stage = callService(service.fn, { batchSize: 3, concurrency: 3, retries: { baseMs: 5 }, merge: (row, result, index) => ({ row, result, index }) });
      const sink = collect<{ row: number; result: number; index: number }>();
      const summary = await run(range(9), stage, sink);
      expect(service.calls.map((c) => c.rows).sort((a, b) => a[0] - b[0] || b.length - a.length)).to.deep.equal([[1, 2, 3], [2], [4, 5, 6], [5], [5], [7, 8, 9]]);
      expect(sink.rows).to.deep.equal(range(9).map((r) => ({ row: r, result: r * 10, index: r })));
      const first = service.calls.filter((c) => c.rows.includes(5)).map((c) => [c.attempt, c.key]);
      expect(first).to.deep.equal([[1, first[0][1]], [2, `${first[0][1]}.r2`], [3, `${first[0][1]}.r3`]]);
      expect(summary).to.include({ read: 9, written: 9, rejected: 0 });
      expect(stage.metrics).to.include({ batches: 3, calls: 6, retries: 3, itemFailures: 3, rowsSent: 12, failedBatches: 0 });
    });

    it('ordered: a batch waits for an earlier one whose items are being retried; ordered: false lets it pass', async () => {
      for (const ordered of [true, false]) {
        const service = new ControlledService();
        const sink = collect<number>();
        const done = run(range(4), callService(service.fn, { batchSize: 2, concurrency: 2, ordered, retries: { baseMs: 0 } }), sink);
        await service.called(2);
        service.resolve(0, [busy(), 20]);
        service.answer(1);
        await service.called(3);
        expect(service.calls[2].row).to.deep.equal([1]);
        await quiesce(() => sink.rows.length);
        expect(sink.rows, `ordered: ${ordered}`).to.deep.equal(ordered ? [] : [30, 40]);
        service.answer(2);
        await done;
        expect(sink.rows, `ordered: ${ordered}`).to.deep.equal(ordered ? [10, 20, 30, 40] : [30, 40, 10, 20]);
      }
    });

    it("TESTPLAN D25 'reject': items that still fail go to the reject channel, each with its own error naming its row; in = out + rejected", async () => {
      const service = partial((r) => (r === 3 ? itemFailed('plate 3 is not a plate') : r === 7 ? busy() : undefined));
      const store = rejectStore();
      const stage = callService(service.fn, { batchSize: 5, onError: 'reject', retries: { attempts: 2, baseMs: 0 } });
      const sink = collect<number>();
      const summary = await run(range(10), stage, sink, { rejects: store.target });
      expect(sink.rows).to.deep.equal(range(10).filter((r) => r !== 3 && r !== 7).map((r) => r * 10));
      expect(store.rejects.map((r) => [r.row, r.index, r.reason])).to.deep.equal([
        [3, 3, 'plate 3 is not a plate (not retryable)'],
        [7, 7, 'busy (gave up after 2 attempt(s))'],
      ]);
      expect(store.rejects.map((r) => r.error.message)).to.deep.equal([
        'callService(partial) failed on batch 1 (row 3) after 1 attempt(s): plate 3 is not a plate (not retryable)',
        'callService(partial) failed on batch 2 (row 7) after 2 attempt(s): busy (gave up after 2 attempt(s))',
      ]);
      expect(store.rejects[1].error.cause).to.be.instanceOf(ServiceError).and.include({ kind: 'item', retryable: true });
      expect(service.calls.map((c) => c.rows)).to.deep.equal([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [7]]);
      expect(summary).to.include({ read: 10, written: 8, rejected: 2 });
      expectAccounted(summary);
      expect(stage.metrics).to.include({ failedBatches: 2, rejectedRows: 2, itemFailures: 3 });
    });

    it("TESTPLAN D25 'fail': one BatchError naming every failed row of the batch, its source lines and each reason; the rows before the first are delivered", async () => {
      const text = 'id\n' + range(10).map(String).join('\n') + '\n';
      const service = async function registry(rows: string[][]) {
        return rows.map((r) => (r[0] === '3' || r[0] === '4' ? itemFailed(`no plate ${r[0]}`) : r[0] === '7' ? itemFailed('busy', { status: 503 }) : r[0]));
      };
      const sink = collect<string>();
      const error = await rejectionOf(run(csv.read(Readable.from([text]), { source: 'in.csv' }), callService(service, { batchSize: 10, retries: { attempts: 2, baseMs: 0 } }), sink)) as unknown as BatchError;
      expect(error).to.be.instanceOf(BatchError);
      expect(error.message).to.equal(
        'callService(registry) failed on batch 1 (rows 3–4, 7; in.csv, lines 4–5, 8) after 2 attempt(s): ' +
          'row 3: no plate 3 (not retryable); row 4: no plate 4 (not retryable); row 7: busy (gave up after 2 attempt(s))',
      );
      expect(error).to.deep.include({ firstRow: 3, lastRow: 7, ranges: [{ first: 3, last: 4 }, { first: 7, last: 7 }], first: { source: 'in.csv', line: 4 }, last: { source: 'in.csv', line: 8 } });
      expect((error.cause as ServiceError).message).to.equal('no plate 3');
      expect(sink.rows).to.deep.equal(['1', '2']);
    });

    it("'fail' with many failed items: the message lists ten and counts the rest", async () => {
      const error = await rejectionOf(run(range(30), callService(async (rows: number[]) => rows.map((r) => (r % 2 === 1 ? itemFailed('odd') : r)), { batchSize: 30 }), collect()));
      expect(error.message).to.equal(
        'callService() failed on batch 1 (rows 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, … (15 rows in all)) after 1 attempt(s): ' +
          range(10).map((i) => `row ${2 * i - 1}: odd (not retryable)`).join('; ') + '; … (15 parts)',
      );
    });

    it('what is retried: `retryable`, `status`, a ServiceError or a reason object with `retryable: true`; not a plain Error or message; `retryOn` decides in the end', async () => {
      const reasons: Record<number, () => ItemFailure> = {
        1: () => itemFailed('refused'),
        2: () => itemFailed('busy', { retryable: true }),
        3: () => itemFailed(new Error('bug in the service')),
        4: () => itemFailed('unavailable', { status: 503 }),
        5: () => itemFailed(new ServiceError('locked', { kind: 'item', retryable: true })),
        6: () => itemFailed({ error: 'quota', retryable: true }),
        7: () => itemFailed('conflict', { status: 409 }),
      };
      const service = partial((r, attempt) => (attempt === 1 ? reasons[r]?.() : undefined));
      const store = rejectStore();
      await run(range(8), callService(service.fn, { batchSize: 8, onError: 'reject', retries: { baseMs: 0 } }), collect(), { rejects: store.target });
      expect(service.calls.map((c) => c.rows)).to.deep.equal([range(8), [2, 4, 5, 6]]);
      expect(store.rejects.map((r) => r.reason)).to.deep.equal(['refused (not retryable)', 'bug in the service (not retryable)', 'conflict (not retryable)']);
      expect(store.rejects[2].error.cause).to.include({ kind: 'item', status: 409 });

      const seen: [string, number][] = [];
      const retryOn = (error: unknown, attempt: number) => {
        seen.push([(error as Error).message, attempt]);
        return (error as Error).message === 'bug in the service';
      };
      const again = partial((r, attempt) => (attempt === 1 ? reasons[r]?.() : undefined));
      await run(range(8), callService(again.fn, { batchSize: 8, onError: 'reject', retries: { baseMs: 0, retryOn } }), collect(), { rejects: rejectStore().target });
      expect(again.calls.map((c) => c.rows)).to.deep.equal([range(8), [3]]);
      expect(seen.map(([m]) => m)).to.deep.equal(['refused', 'busy', 'bug in the service', 'unavailable', 'locked', 'quota', 'conflict']);
      expect(seen.every(([, attempt]) => attempt === 1)).to.equal(true);
    });

    it("a failed item's Retry-After is waited for (429 items slow an adaptive rate); one longer than maxRetryAfterMs or the deadline ends it at once", async () => {
      const limiter = new RateLimiter({ calls: 100, per: 1_000, adaptive: true });
      const starts: number[] = [];
      const service = partial((r, attempt) => {
        if (r === 1) starts.push(performance.now());
        return r === 1 && attempt === 1 ? itemFailed('slow down', { status: 429, retryAfter: 1 }) : undefined;
      });
      const stage = callService(service.fn, { batchSize: 2, rate: limiter, retries: { baseMs: 0 } });
      await run(range(2), stage, collect());
      // Leeway: never early beyond the timer's 1 ms granularity (Node's timers count from the
      // loop's cached millisecond clock, so performance.now() may read 999.8); at most 1.5 s late.
      expect(starts[1] - starts[0]).to.be.within(998, 2_500);
      expect(stage.metrics).to.include({ throttled: 1, retries: 1 });
      expect(limiter.stats.decreases).to.equal(1);

      const store = rejectStore();
      const long = partial((r) => (r === 1 ? itemFailed('come back tomorrow', { status: 503, retryAfter: 86_400 }) : r === 2 ? itemFailed('later', { status: 503, retryAfter: 1 }) : undefined));
      const started = Date.now();
      await run([1, 3], callService(long.fn, { batchSize: 3, onError: 'reject', retries: { maxRetryAfterMs: 60_000 } }), collect(), { rejects: store.target });
      await run([2, 3], callService(long.fn, { batchSize: 3, onError: 'reject', retries: { deadlineMs: 200 } }), collect(), { rejects: store.target });
      expect(Date.now() - started, 'neither waited').to.be.below(1_000);
      expect(store.rejects.map((r) => [r.row, r.reason])).to.deep.equal([
        [1, 'come back tomorrow (the service asked to wait 86400 s, more than maxRetryAfterMs (60000 ms))'],
        [2, 'later (its deadline of 200 ms (retries.deadlineMs) would pass)'],
      ]);
      expect(long.calls.length).to.equal(2);
    });

    it('retries of items draw on the retry budget: when it is spent, the items fail saying so', async () => {
      const budget = new RetryBudget({ capacity: 5, retryCost: 5 });
      const service = partial((r) => (r % 2 === 0 ? busy() : undefined));
      const store = rejectStore();
      await run(range(4), callService(service.fn, { batchSize: 2, onError: 'reject', retries: { attempts: 5, baseMs: 0, budget } }), collect(), { rejects: store.target });
      expect(service.calls.map((c) => c.rows)).to.deep.equal([[1, 2], [2], [3, 4]]);
      expect(store.rejects.map((r) => [r.row, r.reason])).to.deep.equal([[2, 'busy (the retry budget is spent)'], [4, 'busy (the retry budget is spent)']]);
    });

    it('a retry of failed items that fails as a whole is retried with the same key; a permanent failure of it is isolated', async () => {
      const keys: string[] = [];
      let failWhole = true;
      const flaky = async (rows: number[], { attempt, key }: CallContext) => {
        keys.push(key);
        if (attempt === 2 && failWhole) {
          failWhole = false;
          throw status(503);
        }
        return rows.map((r) => (attempt === 1 && (r === 2 || r === 5) ? busy() : r));
      };
      const sink = collect<number>();
      await run(range(6), callService(flaky, { batchSize: 6, retries: { baseMs: 0 } }), sink);
      expect(sink.rows).to.deep.equal(range(6));
      expect(keys).to.deep.equal([keys[0], `${keys[0]}.r2`, `${keys[0]}.r2`]);

      const calls: { rows: number[]; key: string }[] = [];
      const seen = new Set<number>();
      // Items 2, 5 and 6 are busy the first time; then any call carrying 5 is refused.
      const refuses5 = async (rows: number[], { key }: CallContext) => {
        calls.push({ rows, key });
        if (rows.some((r) => r === 5 && seen.has(r))) throw status(400, 'HTTP 400: 5 is bad');
        const answer = rows.map((r) => ([2, 5, 6].includes(r) && !seen.has(r) ? busy() : r));
        for (const r of rows) seen.add(r);
        return answer;
      };
      const store = rejectStore();
      const out = collect<number>();
      const summary = await run(range(6), callService(refuses5, { batchSize: 6, onError: 'reject', isolate: true, retries: { baseMs: 0 } }), out, { rejects: store.target });
      const k = calls[0].key;
      expect(calls.map((c) => [c.rows, c.key])).to.deep.equal([
        [range(6), k], [[2, 5, 6], `${k}.r2`], [[2, 5], `${k}.r2.1`], [[2], `${k}.r2.1.1`], [[5], `${k}.r2.1.2`], [[6], `${k}.r2.2`],
      ]);
      expect(out.rows).to.deep.equal([1, 2, 3, 4, 6]);
      expect(store.rejects.map((r) => [r.row, r.reason])).to.deep.equal([[5, 'HTTP 400: 5 is bad (not retryable)']]);
      expectAccounted(summary);
    });
  });

  describe('timeouts, abort and timers', () => {
    it("timeoutMs: the call's signal aborts, the attempt fails as retryable, the retry succeeds — even if the function ignores its signal", async () => {
      const signals: AbortSignal[] = [];
      const stage = callService(async (rows: number[], { signal, attempt }) => {
        signals.push(signal);
        if (attempt === 1) return new Promise<number[]>(() => {}); // never settles, ignores the signal
        return rows;
      }, { timeoutMs: 30, retries: { baseMs: 0 } });
      const sink = collect<number>();
      await run(range(3), stage, sink);
      expect(sink.rows).to.deep.equal(range(3));
      expect(signals[0].aborted).to.equal(true);
      expect(signals[0].reason).to.be.instanceOf(ServiceError);
      expect(signals[0].reason.message).to.equal('no answer within 30 ms (timeoutMs)');
      expect(signals[1].aborted).to.equal(false);
      expect(stage.metrics).to.include({ timeouts: 1, retries: 1 });
    });

    it("run's signal aborts in-flight calls and starts no new ones; run rejects with an AbortError", async () => {
      const service = new ControlledService();
      const stage = callService(service.fn, { batchSize: 2, concurrency: 2 });
      const controller = new AbortController();
      const done = run(range(100), stage, collect(), { signal: controller.signal });
      await service.called(2);
      const reason = new Error('deadline');
      controller.abort(reason);
      const error = await rejectionOf(done);
      expect(error).to.be.instanceOf(AbortError);
      expect(error.cause, 'the abort reason').to.equal(reason);
      expect(service.calls.map((c) => c.context.signal.aborted)).to.deep.equal([true, true]);
      await quiesce(() => service.calls.length);
      expect(service.calls.length).to.equal(2);
      expect(stage.closed).to.equal(true);
    });

    it('destroy during a backoff or a rate wait clears its timer; nothing keeps the loop alive', async () => {
      const limiter = new RateLimiter({ calls: 1, per: 60_000 });
      const stage = callService(async () => {
        throw status(503);
      }, { batchSize: 1, concurrency: 2, rate: limiter, retries: { baseMs: 60_000, maxDelayMs: 60_000 } });
      const source = new CountingSource(10);
      pipeline(source, stage, collect(), () => {});
      await until(() => stage.metrics.calls === 1 && (limiter as unknown as { waiters: unknown[] }).waiters.length === 1, 'a backoff and a rate wait', 100_000);
      await destroyAll(source, stage);
      await closed(stage);
      expect((limiter as unknown as { timer: unknown }).timer).to.equal(null);
      expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, 'only mocha’s own').to.be.at.most(1);
    });
  });

  describe('rate', () => {
    it('a RateLimiter shared by two stages holds the limit for both together', async () => {
      const limiter = new RateLimiter({ calls: 2, per: 50 });
      const starts: number[] = [];
      const fn = async (rows: number[]) => {
        starts.push(performance.now());
        return rows;
      };
      await Promise.all([
        run(range(4), callService(fn, { batchSize: 1, concurrency: 4, rate: limiter }), collect()),
        run(range(4), callService(fn, { batchSize: 1, concurrency: 4, rate: limiter }), collect()),
      ]);
      expect(starts.length).to.equal(8);
      const { mostInWindow } = await import('../helpers/fake-service.js');
      // Leeway: none needed in-process (the limiter's own clock); 8 calls need ≥ 3 windows.
      expect(mostInWindow(starts, 50)).to.equal(2);
      expect(Math.max(...starts) - Math.min(...starts)).to.be.at.least(150 - 1);
    });

    it('adaptive: 429s lower the shared rate', async () => {
      const limiter = new RateLimiter({ calls: 100, per: 1_000, adaptive: true });
      await run(range(3), callService(async (rows: number[], { attempt }) => {
        if (attempt === 1) throw status(429);
        return rows;
      }, { batchSize: 1, rate: limiter, retries: { baseMs: 0 } }), collect());
      expect(limiter.callsPerSecond).to.be.below(100);
      expect(limiter.stats.decreases).to.be.at.least(1);
    });
  });

  describe('options', () => {
    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => callService(3 as never), 'callService(): expected `fn` to be a function, got `3` (number)'],
        [() => callService(times10, { batchSize: 0 }), 'callService(): expected `batchSize` to be an integer from 1 and up, got `0` (number)'],
        [() => callService(times10, { concurrency: 1.5 }), 'callService(): expected `concurrency` to be an integer from 1 and up, got `1.5` (number)'],
        [() => callService(times10, { timeoutMs: 0 }), 'callService(): expected `timeoutMs` to be an integer from 1 and up (or Infinity), got `0` (number)'],
        [() => callService(times10, { onError: 'skip' as never }), "callService(): expected `onError` to be one of 'fail', 'reject', got `skip` (string)"],
        [() => callService(times10, { ordered: 'yes' as never }), 'callService(): expected `ordered` to be a boolean, got `yes` (string)'],
        [() => callService(times10, { rate: { calls: 0, per: 10 } }), 'callService(): expected `rate.calls` to be an integer from 1 and up, got `0` (number)'],
        [() => callService(times10, { retries: { attempts: 0 } }), 'callService(): expected `retries.attempts` to be an integer from 1 and up, got `0` (number)'],
        [() => callService(times10, { isolate: { maxExtraCalls: -1 } }), 'callService(): expected `isolate.maxExtraCalls` to be an integer from 0 and up, got `-1` (number)'],
        [() => callService(times10, { merge: 'x' as never }), 'callService(): expected `merge` to be a function, got `x` (string)'],
        [() => callService(times10, { maxWaitMs: 0 }), 'callService(): expected `maxWaitMs` to be an integer from 1 and up (or Infinity), got `0` (number)'],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the options object', () => {
      const options = Object.freeze({ batchSize: 5, rate: Object.freeze({ calls: 1, per: 10 }), retries: Object.freeze({ attempts: 2 }) });
      callService(times10, options).destroy();
      expect(options).to.deep.equal({ batchSize: 5, rate: { calls: 1, per: 10 }, retries: { attempts: 2 } });
    });
  });
});
