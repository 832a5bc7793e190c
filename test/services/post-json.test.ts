/**
 * callService(postJson(url)) against a real HTTP server on 127.0.0.1 that misbehaves on
 * purpose (test/helpers/fake-service.ts). Where time is the point (Retry-After, rate
 * limits) the tests assert ranges and state the leeway; elsewhere they wait on events.
 */
import { expect } from 'chai';
import { inspect } from 'node:util';
import { AbortError, BatchError, ServiceError, callService, postJson, run, type Reject } from '../../lib/index.js';
import { FakeService, mostInWindow } from '../helpers/fake-service.js';
import { collect, expectAccounted, range, rejectionOf, thrownBy, until } from '../helpers/streams.js';

const rowsOf = (n: number) => range(n).map((id) => ({ id }));
type Row = { id: number };

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
    // Leeway: never early; at most 1.5 s late on a loaded machine.
    expect(second).to.be.within(1_000, 2_500);
    expect(service.requests[0].key).to.equal(service.requests[1].key);
    expect(sink.rows.length).to.equal(5);
    expect(stage.metrics).to.include({ calls: 2, retries: 1, throttled: 1 });
  });

  it('429 with Retry-After as an HTTP date: waits until then (the date has 1 s resolution) (TESTPLAN D23)', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    service.script.push({ status: 429, headers: { 'retry-after': at.toUTCString() } });
    await run(rowsOf(3), callService(postJson<Row, { score: number }>(service.url), { merge, retries: { baseMs: 1 } }), collect());
    expect(service.requests.length).to.equal(2);
    const waited = service.arrivals[1];
    // The date is 1–2 s ahead when sent; leeway 1 s late, 50 ms for clock rounding.
    expect(waited).to.be.within(950, 3_000);
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
    expect(thrownBy(() => postJson(`not a url ${apiKey}`)).message).to.equal('Expected `url` to be an absolute URL, got a string that is not one');
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
