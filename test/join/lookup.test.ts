import { expect } from 'chai';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, BatchError, RowError, lookup, pipe, run, take, type LookupFunction, type LookupOptions } from '../../lib/index.js';
import { CountingSource, StalledSink, closed, collect, deferred, expectTypeErrors, quiesce, rejectionOf, trackedGenerator } from '../helpers/streams.js';

interface Ticket { id: number; code: string | null }
interface Fine { fine: number }

async function looked<L, V>(rows: L[], source: Parameters<typeof lookup<L, V, unknown>>[0], options: LookupOptions<L, V, unknown>): Promise<{ out: unknown[]; stage: ReturnType<typeof lookup<L, V, unknown>> }> {
  const stage = lookup<L, V, unknown>(source, options);
  const sink = collect();
  await pipeline(Readable.from(rows, { objectMode: true }), stage, sink);
  return { out: sink.rows, stage };
}

/** A lookup function over a Map that records each call's keys. */
function recording(table: Map<string, Fine>): { fn: LookupFunction<Fine>; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const fn: LookupFunction<Fine> = async (keys) => {
    calls.push(keys);
    return keys.filter((k) => table.has(k as string)).map((k) => [k, table.get(k as string)!] as const);
  };
  return { fn, calls };
}

const fines = new Map([['21', { fine: 65 }], ['38', { fine: 35 }]]);
const tickets: Ticket[] = [{ id: 1, code: '21' }, { id: 2, code: '99' }, { id: 3, code: null }, { id: 4, code: '38' }, { id: 5, code: '21' }];

describe('lookup()', () => {
  describe('behaviour', () => {
    it('a Map or an object table: left keeps missing and null keys with null columns, in order', async () => {
      const expected = [{ id: 1, code: '21', fine: 65 }, { id: 2, code: '99', fine: null }, { id: 3, code: null, fine: null }, { id: 4, code: '38', fine: 35 }, { id: 5, code: '21', fine: 65 }];
      expect((await looked(tickets, fines, { on: 'code' })).out).to.deep.equal(expected);
      const { out, stage } = await looked(tickets, Object.fromEntries(fines), { on: 'code' });
      expect(out).to.deep.equal(expected);
      expect(stage.metrics.left).to.deep.equal({ rows: 5, matched: 3, unmatched: 2, nullKeys: 1 });
    });

    it('`missing` gives every row the same columns, from the first', async () => {
      const { out } = await looked(tickets.slice(1, 3), fines, { on: 'code', missing: { fine: 0 } });
      expect(out).to.deep.equal([{ id: 2, code: '99', fine: 0 }, { id: 3, code: null, fine: 0 }]);
    });

    it('inner drops rows whose key is missing', async () => {
      const { out, stage } = await looked(tickets, fines, { on: 'code', type: 'inner' });
      expect(out.map((r) => (r as Ticket).id)).to.deep.equal([1, 4, 5]);
      expect(stage.stats.filtered).to.equal(2);
    });

    it('a function: distinct uncached keys a batch per call, cached keys never asked again, hits counted', async () => {
      const { fn, calls } = recording(fines);
      const rows = Array.from({ length: 10 }, (_, i) => ({ id: i, code: ['21', '38', '99'][i % 3]! }));
      const { out, stage } = await looked(rows, fn, { on: 'code', batchSize: 4 });
      expect(out.map((r) => (r as { fine: number | null }).fine)).to.deep.equal([65, 35, null, 65, 35, null, 65, 35, null, 65]);
      expect(calls).to.deep.equal([['21', '38', '99']]);
      // Each batch counts its distinct keys: 3 misses, then 3 and 2 hits.
      expect(stage.lookupMetrics).to.include({ calls: 1, keysQueried: 3, cacheHits: 5, cacheMisses: 3 });
      expect(stage.serviceMetrics?.batches).to.equal(3);
    });

    it('a bounded LRU: with maxEntries 1 evicted keys are asked again; maxEntries 0 caches nothing', async () => {
      const { fn, calls } = recording(fines);
      const rows = ['21', '38', '21', '21'].map((code, id) => ({ id, code }));
      const { stage } = await looked(rows, fn, { on: 'code', batchSize: 1, cache: { maxEntries: 1 } });
      expect(calls).to.deep.equal([['21'], ['38'], ['21']]);
      expect(stage.lookupMetrics).to.include({ cacheEvictions: 2, cacheHits: 1 });
      const none = recording(fines);
      await looked(rows, none.fn, { on: 'code', batchSize: 1, cache: { maxEntries: 0 } });
      expect(none.calls).to.have.length(4);
    });

    it('batches in flight at once never ask the same key twice', async () => {
      const { fn, calls } = recording(fines);
      const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, code: i % 2 ? '21' : '38' }));
      await looked(rows, fn, { on: 'code', batchSize: 2, concurrency: 4 });
      expect(calls.flat().sort()).to.deep.equal(['21', '38']);
    });

    it('equals a nested-loop left join with a table for random keys (property)', async () => {
      await fc.assert(fc.asyncProperty(fc.array(fc.option(fc.integer({ min: 0, max: 20 }), { freq: 5 }), { maxLength: 60 }), fc.uniqueArray(fc.integer({ min: 0, max: 20 })), fc.integer({ min: 1, max: 7 }), async (keys, known, batchSize) => {
        const rows = keys.map((k, id) => ({ id, k }));
        const table = new Map(known.map((k) => [k, { v: k * 10 }]));
        const fn: LookupFunction<{ v: number }> = (ks) => ks.flatMap((k) => (table.has(k as number) ? [[k, table.get(k as number)!] as const] : []));
        const { out } = await looked(rows, fn, { on: 'k', batchSize, cache: { maxEntries: 3 }, missing: { v: null as never } });
        expect(out).to.deep.equal(rows.map((r) => ({ ...r, v: r.k !== null && table.has(r.k) ? r.k * 10 : null })));
      }), { numRuns: 80 });
    });
  });

  describe('options', () => {
    it('rejects invalid options with the documented messages', () => {
      expectTypeErrors([
        [() => lookup(42 as never, { on: 'k' }), 'lookup(): expected `source` to be a lookup function, a Map or an object, got `42` (number)'],
        [() => lookup(fines, { on: 'k', type: 'full' as never }), "lookup(): expected `type` to be one of 'left', 'inner', got `full` (string)"],
        [() => lookup(fines, { on: 'k', batchSize: 0 }), 'lookup(): expected `batchSize` to be an integer from 1 and up, got `0` (number)'],
        [() => lookup(fines, { on: 'k', cache: { maxEntries: -1 } }), 'lookup(): expected `cache.maxEntries` to be an integer from 0 and up, got `-1` (number)'],
        [() => lookup(async () => [], { on: 'k', timeoutMs: 0 }), 'lookup(): expected `timeoutMs` to be an integer from 1 and up (or Infinity), got `0` (number)'],
      ]);
    });
  });

  describe('retries, timeouts and errors', () => {
    it('a failing call is retried (cached keys stay cached); a timeout aborts the call signal', async () => {
      let attempts = 0;
      const fn: LookupFunction<Fine> = async (keys, { signal }) => {
        if (++attempts === 1) {
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        }
        return keys.map((k) => [k, fines.get(k as string) ?? null] as const);
      };
      const { out, stage } = await looked(tickets, fn, { on: 'code', timeoutMs: 50, retries: { attempts: 2, baseMs: 1 } });
      expect(out).to.have.length(5);
      expect(stage.serviceMetrics).to.include({ timeouts: 1, retries: 1 });
    });

    it('a call that fails for good fails the pipeline with a BatchError naming the rows', async () => {
      const fn: LookupFunction<Fine> = async () => {
        throw new Error('store down');
      };
      const error = await rejectionOf(looked(tickets, fn, { on: 'code', retries: false }));
      expect(error).to.be.instanceOf(BatchError);
      // Named for the lookup (the calls run under callService, which the user never wrote).
      expect(error.message).to.equal('lookup(fn) failed on batch 1 (rows 1–5) after 1 attempt(s): store down (not retryable)');
      expect((error as BatchError).stage).to.equal('lookup(fn)');
    });

    it('a key function that throws fails naming the row', async () => {
      const error = await rejectionOf(looked(tickets, fines, { on: (r: Ticket) => { if (r.id === 2) throw new Error('bad'); return r.code; } }));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('lookup() failed on row 2: left row 2: bad');
    });
  });

  describe('a value the output cannot take', () => {
    const rows = [['1', '21'], ['2', '38']];
    for (const [kind, source] of [['a Map', new Map<string, unknown>([['21', ['65']], ['38', 35]])], ['a function', (async (keys: unknown[]) => keys.map((k) => [k, k === '21' ? ['65'] : 35] as const)) as LookupFunction<unknown>]] as const) {
      it(`from ${kind}, a value that is not an array for array rows fails naming the row (it does not hang)`, async () => {
        const error = await rejectionOf(looked<string[], unknown>(rows, source as never, { on: 1 }));
        expect(error).to.be.instanceOf(RowError);
        expect(error.message).to.match(/^lookup\(\) failed on row 2: left row 2: /);
      });
    }
  });

  describe('backpressure and early stop', () => {
    it('with a stalled consumer, reads only a bounded amount ahead and makes no further calls', async () => {
      const { fn, calls } = recording(fines);
      const source = new CountingSource(100_000, { row: (i) => ({ id: i, code: String(i) }) });
      const stage = lookup(fn, { on: 'code', batchSize: 10 });
      const done = pipeline(source, stage, new StalledSink()).catch(() => undefined);
      expect(await quiesce(() => source.pulled)).to.be.below(150);
      expect(calls.length).to.be.below(12);
      stage.destroy();
      await done;
    });

    it('take(n) after it stops the source; an abort fails with AbortError and the call in flight sees its signal', async () => {
      const { fn } = recording(fines);
      const source = trackedGenerator((i) => ({ id: i, code: '21' }));
      expect((await run(source.source, lookup(fn, { on: 'code' }), take(3), collect())).written).to.equal(3);
      expect(source.state.finallyRan).to.equal(true);
      const controller = new AbortController();
      const started = deferred();
      let sawAbort = false;
      const slow: LookupFunction<Fine> = (_keys, { signal }) => new Promise((_, reject) => {
        started.resolve();
        signal.addEventListener('abort', () => { sawAbort = true; reject(new Error('aborted')); }, { once: true });
      });
      const stage = lookup(slow, { on: 'code', signal: controller.signal });
      const done = run(tickets, stage, collect());
      await started.promise;
      controller.abort();
      expect(await rejectionOf(done)).to.be.instanceOf(AbortError);
      await closed(stage);
      expect(sawAbort).to.equal(true);
    });

    it('before a take(n): no lookup call for rows past the limit', async () => {
      const calls: unknown[][] = [];
      const fn: LookupFunction<Fine> = (keys) => {
        calls.push(keys);
        return keys.map((k) => [k, { fine: 1 }] as const);
      };
      const summary = await run(Array.from({ length: 1000 }, (_, i) => ({ id: i, code: String(i) })), lookup(fn, { on: 'code', batchSize: 10 }), take(5), collect());
      expect(summary.written).to.equal(5);
      expect(calls.flat().length).to.be.below(100); // rows buffered before the stop (about 120 asked without the check)
    });

    it('a for await with break over pipe() releases the calls', async () => {
      const { fn } = recording(fines);
      const stage = lookup(fn, { on: 'code', batchSize: 2 });
      let n = 0;
      for await (const row of pipe(trackedGenerator((i) => ({ id: i, code: '38' })).source, stage)) if (row && ++n === 4) break;
      await closed(stage);
      expect(n).to.equal(4);
    });
  });
});
