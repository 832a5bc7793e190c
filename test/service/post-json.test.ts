/**
 * callService(postJson(url)) against a real HTTP server on 127.0.0.1 that misbehaves on
 * purpose (test/helpers/fake-service.ts). Where time is the point (Retry-After, rate
 * limits) the tests assert ranges and state the leeway; elsewhere they wait on events.
 */
import { expect } from 'chai';
import { inspect } from 'node:util';
import { AbortError, BatchError, ServiceError, callService, itemFailed, postJson, run, type Reject } from '../../lib/index.js';
import { FakeService, mostInWindow, type Received } from '../helpers/fake-service.js';
import { collect, expectAccounted, range, rejectionOf, thrownBy, until } from '../helpers/streams.js';

const rowsOf = (n: number) => range(n).map((id) => ({ id }));
type Row = { id: number };

/** A bulk API's answer: a result per item, or that item's error. */
type Item = { score: number } | { error: string; status: number };
/** postJson's `results` for such an API: failed items become itemFailed markers. */
const perItem = (body: unknown) => (body as { results: Item[] }).results.map((item) => ('error' in item ? itemFailed(item.error, { status: item.status }) : item));

/**
 * From the server's records, in arrival order: for each row id, what became of it in each
 * request that carried it — 'ok', 'failed' (its item failed), or 'call failed'.
 */
function historyById(requests: readonly Received[]): Map<number, string[]> {
  const history = new Map<number, string[]>();
  for (const request of requests) {
    const results = (request.answer as { results?: Item[] } | undefined)?.results;
    (request.body as Row[]).forEach((row, i) => {
      const outcome = results === undefined ? 'call failed' : 'error' in results[i] ? 'failed' : 'ok';
      history.set(row.id, [...(history.get(row.id) ?? []), outcome]);
    });
  }
  return history;
}

describe('postJson() with callService() against a misbehaving HTTP service', function () {
  let service: FakeService;

  beforeEach(async () => {
    service = await FakeService.start({ respond: (rows) => (rows as Row[]).map((r) => ({ score: r.id * 2 })) });
  });

  afterEach(async () => {
    // Every request was answered or aborted by the client: nothing is left hanging.
    if (this.ctx.currentTest?.state === 'passed') expect(service.active, 'requests still open on the server').to.equal(0);
    await service.close();
    expect(service.openSockets).to.equal(0);
  });

  const merge = (row: Row, result: { score: number }) => ({ ...row, ...result });

  it('latency: calls = ⌈rows / batchSize⌉, concurrency ≤ limit and reached, order kept, bodies are the batches', async () => {
    service.reply = () => ({ delayMs: 15 });
    const stage = callService(postJson<Row, { score: number }>(service.url), { batchSize: 7, concurrency: 3, merge });
    const sink = collect<Row & { score: number }>();
    const summary = await run(rowsOf(100), stage, sink);
    expect(service.requests.length).to.equal(Math.ceil(100 / 7));
    expect(service.maxActive).to.equal(3);
    expect(sink.rows).to.deep.equal(rowsOf(100).map((r) => ({ ...r, score: r.id * 2 })));
    // With 3 calls in flight, requests may reach the server in any order: compare by content.
    const bodies = service.requests.map((r) => r.body as Row[]).sort((a, b) => a[0].id - b[0].id);
    expect(bodies).to.deep.equal(Array.from({ length: 15 }, (_, i) => rowsOf(100).slice(i * 7, i * 7 + 7)));
    expect(new Set(service.requests.map((r) => r.key)).size).to.equal(15);
    expect(service.requests[0].headers['content-type']).to.equal('application/json');
    expectAccounted(summary);
    expect(stage.metrics).to.include({ calls: 15, retries: 0, maxInFlight: 3 });
  });

  it('429 with Retry-After in seconds: waits at least that long, then succeeds (TESTPLAN D23)', async () => {
    service.script.push({ status: 429, headers: { 'retry-after': '1' } });
    const stage = callService(postJson<Row, { score: number }>(service.url), { batchSize: 10, merge, retries: { baseMs: 1 } });
    const sink = collect();
    await run(rowsOf(5), stage, sink);
    const [first, second] = service.arrivals;
    expect(first).to.equal(0);
    // Leeway: never early beyond the timer's 1 ms granularity; at most 1.5 s late on a loaded machine.
    expect(second).to.be.within(998, 2_500);
    expect(service.requests[0].key).to.equal(service.requests[1].key);
    expect(sink.rows.length).to.equal(5);
    expect(stage.metrics).to.include({ calls: 2, retries: 1, throttled: 1 });
  });

  it('429 with Retry-After as an HTTP date: waits until then (the date has 1 s resolution) (TESTPLAN D23)', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    service.script.push({ status: 429, headers: { 'retry-after': at.toUTCString() } });
    await run(rowsOf(3), callService(postJson<Row, { score: number }>(service.url), { merge, retries: { baseMs: 1 } }), collect());
    expect(service.requests.length).to.equal(2);
    // The retry arrives at the date, not before (50 ms for clock rounding), and at most 1 s late.
    // (Measured against the date itself: the first request may leave late on a busy machine.)
    const retriedAt = performance.timeOrigin + service.requests[1].at;
    expect(retriedAt - at.getTime()).to.be.within(-50, 1_000);
  });

  it('a Retry-After longer than maxRetryAfterMs is not waited for: the batch fails at once, saying why (TESTPLAN D23: capped)', async () => {
    service.script.push({ status: 503, headers: { 'retry-after': '3600' } });
    const error = await rejectionOf(run(rowsOf(3), callService(postJson(service.url), { retries: { maxRetryAfterMs: 5_000 } }), collect()));
    expect(error).to.be.instanceOf(BatchError);
    expect(error.message).to.match(/→ 503 Service Unavailable: .*the service asked to wait 3600 s, more than maxRetryAfterMs \(5000 ms\)\)$/);
    expect(service.requests.length).to.equal(1);
  });

  it('500s that succeed on retry: same key on every attempt, nothing lost or duplicated (TESTPLAN D23)', async () => {
    service.script.push({ status: 500 }, { status: 502 }, { status: 503 });
    const stage = callService(postJson<Row, { score: number }>(service.url), { batchSize: 4, merge, retries: { attempts: 5, baseMs: 5 } });
    const sink = collect<Row>();
    await run(rowsOf(8), stage, sink);
    expect(sink.rows.map((r) => r.id)).to.deep.equal(range(8));
    const keys = service.requests.map((r) => r.key);
    expect(keys.slice(0, 4)).to.deep.equal([keys[0], keys[0], keys[0], keys[0]]);
    expect(keys[4]).to.not.equal(keys[0]);
    expect(service.effects.length).to.equal(2);
  });

  it('connection reset mid-request: retried, succeeds (TESTPLAN D23)', async () => {
    service.script.push({ reset: true });
    const stage = callService(postJson<Row, { score: number }>(service.url), { merge, retries: { baseMs: 1 } });
    const sink = collect();
    await run(rowsOf(3), stage, sink);
    expect(sink.rows.length).to.equal(3);
    expect(service.requests.length).to.equal(2);
    expect(stage.metrics.retries).to.equal(1);
  });

  it('a reset on every attempt: a network ServiceError as the cause, after the attempts', async () => {
    service.reply = () => ({ reset: true });
    const error = await rejectionOf(run(rowsOf(2), callService(postJson(service.url), { retries: { attempts: 2, baseMs: 1 } }), collect()));
    expect(error).to.be.instanceOf(BatchError);
    const cause = error.cause as ServiceError;
    expect(cause).to.be.instanceOf(ServiceError);
    expect(cause).to.include({ kind: 'network', retryable: true });
    expect(cause.message).to.match(/^POST http:\/\/127\.0\.0\.1:\d+\/batch failed: /);
  });

  it('a call that never answers: timeoutMs aborts the request (the server sees it closed), the retry succeeds (TESTPLAN D23: per-attempt timeout)', async () => {
    service.script.push({ hang: true });
    // Timed where the timeout runs, at the client: the first request reaches the server
    // some ms after its call started (a new connection), so server arrivals can be < 100 ms apart.
    const starts: number[] = [];
    const timed: typeof fetch = (input, init) => {
      starts.push(performance.now());
      return fetch(input, init);
    };
    const stage = callService(postJson<Row, { score: number }>(service.url, { fetch: timed }), { merge, timeoutMs: 100, retries: { baseMs: 1 } });
    const sink = collect();
    await run(rowsOf(3), stage, sink);
    expect(sink.rows.length).to.equal(3);
    await until(() => service.requests[0].aborted, 'the hung request closed by the client', 100_000);
    // Never before the 100 ms timeout (1 ms for the timer clock's rounding); leeway 1.4 s late on a loaded machine.
    expect(starts[1] - starts[0]).to.be.within(100 - 1, 1_500);
    expect(stage.metrics).to.include({ timeouts: 1, retries: 1 });
  });

  it('a server that always hangs: the overall deadline ends the batch, however many attempts are left (TESTPLAN D23: overall deadline)', async () => {
    service.reply = () => ({ hang: true });
    const stage = callService(postJson(service.url), { timeoutMs: 200, retries: { attempts: 10, baseMs: 1, deadlineMs: 500 } });
    const started = Date.now();
    const error = await rejectionOf(run(rowsOf(2), stage, collect()));
    const took = Date.now() - started;
    expect(error).to.be.instanceOf(BatchError);
    // Attempts at 0, ~200 and ~400 ms; the third is cut at the deadline (500 ms), not at
    // its own timeout; leeway 1 s late on a loaded machine.
    expect(took).to.be.within(480, 1_500);
    expect(stage.metrics.calls).to.be.within(2, 3);
    expect((error.cause as ServiceError).message).to.match(/no answer within \d+ ms \((retries\.deadlineMs|timeoutMs)\)/);
    await until(() => service.requests.every((r) => r.aborted), 'every hung request closed by the client', 100_000);
  });

  it('a result array of the wrong length fails the batch (not silently lost), or rejects its rows', async () => {
    service.reply = (req) => ({ body: { results: (req.body as unknown[]).slice(1) } });
    const error = await rejectionOf(run(rowsOf(4), callService(postJson(service.url), { batchSize: 4 }), collect()));
    expect(error.message).to.equal('callService(postJson) failed on batch 1 (rows 1–4) after 1 attempt(s): the service returned 3 result(s) for 4 row(s) (not retryable)');
    const rejects: Reject[] = [];
    const summary = await run(rowsOf(4), callService(postJson(service.url), { batchSize: 4, onError: 'reject' }), collect(), { rejects: (r) => void rejects.push(r) });
    expect(summary).to.include({ read: 4, written: 0, rejected: 4 });
  });

  it('400: no retry, the rows go to the reject channel with the reason; in = out + rejected (TESTPLAN D23)', async () => {
    service.reply = (req) => ((req.body as Row[]).some((r) => r.id === 9) ? { status: 400, body: { error: 'id 9 is not a plate' } } : {});
    const rejects: Reject[] = [];
    const stage = callService(postJson<Row, { score: number }>(service.url), { batchSize: 5, concurrency: 2, merge, onError: 'reject' });
    const sink = collect<Row>();
    const summary = await run(rowsOf(20), stage, sink, { rejects: (r) => void rejects.push(r) });
    expect(service.requests.length).to.equal(4);
    expect(rejects.map((r) => (r.row as Row).id)).to.deep.equal([6, 7, 8, 9, 10]);
    expect(rejects[0].reason).to.match(/^POST http:\/\/127\.0\.0\.1:\d+\/batch → 400 Bad Request: \{"error":"id 9 is not a plate"\} \(not retryable\)$/);
    expect(sink.rows.map((r) => r.id)).to.deep.equal([...range(5), ...range(10, 11)]);
    expect(summary).to.include({ read: 20, written: 15, rejected: 5 });
    expectAccounted(summary);
  });

  it('TESTPLAN D24: the server commits, answers after the client timed out, the client retries with the same key; a de-duplicating server applies it once', async () => {
    await service.close();
    service = await FakeService.start({ dedupe: true });
    service.script.push({ delayMs: 300 }); // commits at once, answers too late
    const stage = callService(postJson<number, number>(service.url), { batchSize: 5, timeoutMs: 100, retries: { baseMs: 1 } });
    const sink = collect<number>();
    await run(range(15), stage, sink);
    expect(sink.rows).to.deep.equal(range(15));
    const keys = service.requests.map((r) => r.key!);
    expect(keys.length).to.equal(4);
    expect(keys[0]).to.equal(keys[1]);
    expect(new Set(keys).size).to.equal(3);
    expect(service.effects.map((e) => e.key)).to.deep.equal([...new Set(keys)]);
    expect(stage.metrics).to.include({ timeouts: 1, retries: 1 });
  });

  describe('TESTPLAN D25: per-item partial failure', () => {
    it('TESTPLAN D25: only the failed items are sent again; the server saw no item after its success and every item reached it; in = out + rejected', async () => {
      await service.close();
      service = await FakeService.start({ dedupe: true });
      // Per id, how many times its item fails before it succeeds (Infinity: always).
      const busy = new Map([[3, 2], [7, 1], [21, 1], [25, Infinity]]);
      const failures = new Map<number, number>();
      service.respond = (rows) => (rows as Row[]).map((r): Item => {
        if (r.id === 12) return { error: 'plate 12 is not a plate', status: 422 };
        const failed = failures.get(r.id) ?? 0;
        if (failed < (busy.get(r.id) ?? 0)) {
          failures.set(r.id, failed + 1);
          return { error: `row ${r.id} is locked, try again`, status: 503 };
        }
        return { score: r.id * 2 };
      });
      const rejects: Reject[] = [];
      const stage = callService(postJson<Row, { score: number }>(service.url, { results: perItem }), {
        batchSize: 10, concurrency: 2, merge, onError: 'reject', retries: { attempts: 3, baseMs: 1 },
      });
      const sink = collect<Row & { score: number }>();
      const summary = await run(rowsOf(30), stage, sink, { rejects: (r) => void rejects.push(r) });

      // Output: every row that succeeded, once, in input order, with its own result.
      expect(sink.rows).to.deep.equal(rowsOf(30).filter((r) => r.id !== 12 && r.id !== 25).map((r) => ({ ...r, score: r.id * 2 })));
      expect(rejects.map((r) => [(r.row as Row).id, r.index, r.reason])).to.deep.equal([
        [12, 12, 'plate 12 is not a plate (not retryable)'],
        [25, 25, 'row 25 is locked, try again (gave up after 3 attempt(s))'],
      ]);
      expect(rejects[0].error).to.be.instanceOf(BatchError);
      expect(rejects[0].error.message).to.equal('callService(postJson) failed on batch 2 (row 12) after 1 attempt(s): plate 12 is not a plate (not retryable)');
      expect(rejects[0].error.cause).to.be.instanceOf(ServiceError).and.include({ kind: 'item', status: 422, retryable: false, message: 'plate 12 is not a plate' });
      expect(summary).to.include({ read: 30, written: 28, rejected: 2 });
      expectAccounted(summary);

      // The server's side: no item was sent again after it succeeded, none was lost.
      const history = historyById(service.requests);
      expect([...history.keys()].sort((a, b) => a - b)).to.deep.equal(range(30));
      for (const [id, outcomes] of history) expect(outcomes.slice(0, -1), `id ${id}: sent again after its success`).to.not.include('ok');
      const resent = Object.fromEntries([...history].filter(([, outcomes]) => outcomes.length > 1));
      expect(resent).to.deep.equal({ 3: ['failed', 'failed', 'ok'], 7: ['failed', 'ok'], 21: ['failed', 'ok'], 25: ['failed', 'failed', 'failed'] });
      expect(history.get(12)).to.deep.equal(['failed']);
      // Retries carry only the failed items, under keys of their own (a de-duplicating
      // server would replay the first answer for the batch's key).
      const bodies = service.requests.map((r) => (r.body as Row[]).map((row) => row.id));
      expect(bodies.filter((b) => b.length < 10).sort((a, b) => a[0] - b[0] || a.length - b.length)).to.deep.equal([[3], [3, 7], [21, 25], [25]]);
      const keys = service.requests.map((r) => r.key!);
      expect(new Set(keys).size).to.equal(keys.length);
      const k1 = service.requests.find((r) => (r.body as Row[])[0].id === 1)!.key!;
      expect(keys.filter((k) => k.startsWith(k1))).to.deep.equal([k1, `${k1}.r2`, `${k1}.r3`]);
      expect(service.effects.length).to.equal(7);
      expect(stage.metrics).to.include({ batches: 3, calls: 7, retries: 4, itemFailures: 8, rowsSent: 36, failedBatches: 2, rejectedRows: 2 });
    });

    it('TESTPLAN D25 with D24: a retry of failed items that times out after the server applied it goes again with the same key; each item is applied once', async () => {
      await service.close();
      service = await FakeService.start({ dedupe: true });
      let failedOnce = false;
      service.respond = (rows) => (rows as Row[]).map((r): Item => {
        if (r.id === 2 && !failedOnce) {
          failedOnce = true;
          return { error: 'busy', status: 503 };
        }
        return { score: r.id * 2 };
      });
      service.script.push({}, { delayMs: 300 }); // the retry of item 2 is applied at once, answered too late
      const stage = callService(postJson<Row, { score: number }>(service.url, { results: perItem }), { batchSize: 4, merge, timeoutMs: 100, retries: { baseMs: 1 } });
      const sink = collect<Row & { score: number }>();
      await run(rowsOf(4), stage, sink);
      expect(sink.rows.map((r) => r.id)).to.deep.equal([1, 2, 3, 4]);
      const [k, r2, again] = service.requests.map((r) => r.key!);
      expect([r2, again]).to.deep.equal([`${k}.r2`, `${k}.r2`]);
      expect(service.requests.map((r) => (r.body as Row[]).map((row) => row.id))).to.deep.equal([[1, 2, 3, 4], [2], [2]]);
      // Applied: the batch once (item 2 failed in it), the retry of item 2 once.
      expect(service.effects).to.deep.equal([{ key: k, rows: 4 }, { key: r2, rows: 1 }]);
      expect(stage.metrics).to.include({ calls: 3, retries: 2, timeouts: 1, itemFailures: 1 });
    });

    it("TESTPLAN D25 with onError 'fail': the BatchError names every failed row of the batch and each one's reason", async () => {
      service.respond = (rows) => (rows as Row[]).map((r): Item => (r.id % 4 === 0 ? { error: `no plate ${r.id}`, status: 400 } : { score: r.id * 2 }));
      const sink = collect<Row & { score: number }>();
      const error = await rejectionOf(run(rowsOf(10), callService(postJson<Row, { score: number }>(service.url, { results: perItem }), { batchSize: 10, merge }), sink));
      expect(error).to.be.instanceOf(BatchError);
      expect(error.message).to.equal('callService(postJson) failed on batch 1 (rows 4, 8) after 1 attempt(s): row 4: no plate 4 (not retryable); row 8: no plate 8 (not retryable)');
      expect(error).to.deep.include({ firstRow: 4, lastRow: 8, ranges: [{ first: 4, last: 4 }, { first: 8, last: 8 }] });
      // The rows before the first failed one were passed on; no retry was made.
      expect(sink.rows.map((r) => r.id)).to.deep.equal([1, 2, 3]);
      expect(service.requests.length).to.equal(1);
    });
  });

  it('TESTPLAN D27: rate limit under concurrency, by the server’s arrival times', async () => {
    // Warm-up: open the client's four connections first (each call waits 20 ms, so they
    // overlap), so that connection set-up does not delay some measured requests only.
    service.reply = () => ({ delayMs: 20 });
    await run(range(8), callService(postJson(service.url), { batchSize: 2, concurrency: 4 }), collect());
    const warm = service.requests.length;
    service.reply = () => ({ delayMs: 5 });
    const starts: number[] = [];
    const call = postJson(service.url);
    const stage = callService((rows: unknown[], context) => {
      starts.push(performance.now());
      return call(rows, context);
    }, { batchSize: 2, concurrency: 4, rate: { calls: 3, per: 100 } });
    await run(range(24), stage, collect());
    const arrivals = service.requests.slice(warm).map((r) => r.at - service.requests[warm].at);
    expect(arrivals.length).to.equal(12);
    // Where the calls start, the limit holds exactly.
    expect(mostInWindow(starts, 100)).to.equal(3);
    // At the server: a request arrives some ms after its call started, a varying delay;
    // windows 30 ms shorter than `per` absorb that (a burst past the limit still shows).
    expect(mostInWindow(arrivals, 100 - 30)).to.equal(3);
    // 12 calls at 3 per 100 ms start over at least 300 ms, and not much more (leeway 700 ms).
    expect(starts[11] - starts[0]).to.be.within(300, 1_000);
    expect(service.maxActive).to.be.at.most(4);
  });

  it('abort: an AbortError with the reason as `cause`, no new calls, the ones in flight aborted (the server sees them closed) (TESTPLAN B15)', async () => {
    service.reply = () => ({ hang: true });
    const controller = new AbortController();
    const stage = callService(postJson(service.url), { batchSize: 2, concurrency: 2 });
    const done = run(range(100), stage, collect(), { signal: controller.signal });
    await service.received(2);
    const reason = new Error('operator cancelled the load');
    controller.abort(reason);
    const error = await rejectionOf(done);
    expect(error).to.be.instanceOf(AbortError);
    expect(error.cause, 'the abort reason').to.equal(reason);
    await until(() => service.active === 0, 'both requests closed', 100_000);
    expect(service.requests.map((r) => r.aborted)).to.deep.equal([true, true]);
    expect(service.requests.length).to.equal(2);
  });

  it('TESTPLAN F33: credentials never appear in errors — not the Authorization header, not an API key in the URL, not when the server echoes them', async () => {
    const token = 'Bearer s3cr3t-t0ken-value';
    const apiKey = 'k3y-in-the-query-string';
    service.reply = (req) => ({ status: 401, body: { error: `bad credentials: ${String(req.headers.authorization)} / ${apiKey}` } });
    const url = `${service.url}?api_key=${apiKey}`;
    const error = await rejectionOf(run(rowsOf(2), callService(postJson(url, { headers: { Authorization: token, 'x-api-key': apiKey } })), collect()));
    expect(service.requests[0].headers.authorization).to.equal(token);
    for (const text of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error), String(error.cause)]) {
      expect(text).to.not.include('s3cr3t');
      expect(text).to.not.include(apiKey);
    }
    expect(error.message).to.include('/batch?… → 401 Unauthorized: {"error":"bad credentials: [redacted] / [redacted]"}');
    expect(thrownBy(() => postJson(`not a url ${apiKey}`)).message).to.equal('postJson(): expected `url` to be an absolute URL, got a string that is not one');
  });

  it('body and results options: the request and answer shapes are the caller’s', async () => {
    service.reply = (req) => ({ body: { scores: (req.body as { ids: number[] }).ids.map((id) => id + 0.5) } });
    const fn = postJson<Row, number>(service.url, { body: (rows) => ({ ids: rows.map((r) => r.id) }), results: (body) => (body as { scores: number[] }).scores, idempotencyHeader: 'X-Request-Id' });
    const sink = collect<number>();
    await run(rowsOf(3), callService(fn), sink);
    expect(sink.rows).to.deep.equal([1.5, 2.5, 3.5]);
    expect(service.requests[0].headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    expect(service.requests[0].key).to.equal(undefined);
  });
});
