/**
 * `npx tsx bench/service.ts [--seconds S]`: callService() against a paid service with a
 * fixed latency L, a concurrency limit and a rate limit (a local HTTP server on 127.0.0.1
 * in a child process, which answers 429 when more than `concurrency` calls are open or its
 * token bucket — `calls` tokens, refilled at calls/per — is empty). For each scenario it prints the
 * stage's rows/s beside the ceiling min(rate, concurrency / L) × batchSize and beside the
 * naive serial loop (buffer a batch, call, wait, repeat), with the calls made, 429s seen,
 * and the most rows the stage held at once against its bound (concurrency + 1) × batchSize
 * + highWaterMark. Results also go to bench/results/service.json.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { callService, postJson, run } from '../lib/index.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 4);

interface Limits { latencyMs: number; concurrency: number; calls: number; per: number }

/** The service, run in this file's child process (`--serve`): answers on stdout with its port. */
async function serve(limits: Limits): Promise<void> {
  let active = 0;
  // The usual server-side limiter: a token bucket of `calls` tokens refilled continuously
  // at calls/per (a short burst is allowed, the average rate is not exceeded).
  let tokens = limits.calls;
  let last = performance.now();
  const stats = { calls: 0, rejected429: 0, maxActive: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.calls++;
      const now = performance.now();
      tokens = Math.min(limits.calls, tokens + ((now - last) * limits.calls) / limits.per);
      last = now;
      if (active >= limits.concurrency || tokens < 1) {
        stats.rejected429++;
        res.writeHead(429, { 'retry-after': '1' }).end('{"error":"slow down"}');
        return;
      }
      tokens -= 1;
      active++;
      stats.maxActive = Math.max(stats.maxActive, active);
      const rows = JSON.parse(Buffer.concat(chunks).toString('utf8')) as number[];
      setTimeout(() => {
        active--;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows.map((r) => r * 2)));
      }, limits.latencyMs);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send!({ port: (server.address() as { port: number }).port });
  process.on('message', () => {
    process.send!(stats, () => process.exit(0));
  });
}

async function startService(limits: Limits) {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', JSON.stringify(limits)], { execArgv: ['--import', 'tsx'] });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      child.send('stop');
      const [stats] = (await once(child, 'message')) as [{ calls: number; rejected429: number; maxActive: number }];
      await once(child, 'exit');
      return stats;
    },
  };
}

const rowsSource = (n: number) => Readable.from((function* () {
  for (let i = 0; i < n; i++) yield i;
})(), { objectMode: true });

const drain = () => new Writable({ objectMode: true, write: (_row, _enc, cb) => cb() });

async function stage(limits: Limits, batchSize: number, rows: number) {
  const service = await startService(limits);
  // Warm-up, not timed: open the client's connections (a new connection's set-up delays
  // the first requests of a run, which then land bunched in one server window), then let
  // the service's window pass.
  await run(rowsSource(limits.concurrency), callService(postJson<number, number>(service.url), { batchSize: 1, concurrency: limits.concurrency }), drain());
  await new Promise((resolve) => setTimeout(resolve, limits.per * 2));
  const s = callService(postJson<number, number>(service.url), {
    batchSize, concurrency: limits.concurrency, rate: { calls: limits.calls, per: limits.per * (1 + MARGIN) },
  });
  let held = 0;
  const sampler = setInterval(() => {
    held = Math.max(held, s.stats.in - s.stats.out);
  }, 5);
  const started = performance.now();
  const summary = await run(rowsSource(rows), s, drain());
  const ms = performance.now() - started;
  clearInterval(sampler);
  const served = await service.close();
  if (summary.written !== rows) throw new Error(`wrote ${summary.written} of ${rows}`);
  return { rowsPerSecond: rows / (ms / 1000), calls: s.metrics.calls, retries: s.metrics.retries, throttled: s.metrics.throttled, servedCalls: served.calls, maxInFlight: s.metrics.maxInFlight, heldRows: held, boundRows: (limits.concurrency + 1) * batchSize + 16 };
}

async function naive(limits: Limits, batchSize: number, rows: number) {
  const service = await startService(limits);
  const started = performance.now();
  let buffer: number[] = [];
  let written = 0;
  const send = async () => {
    const res = await fetch(service.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(buffer) });
    const results = (await res.json()) as number[];
    written += results.length;
    buffer = [];
  };
  for await (const row of rowsSource(rows)) {
    buffer.push(row as number);
    if (buffer.length === batchSize) await send();
  }
  if (buffer.length > 0) await send();
  const ms = performance.now() - started;
  const served = await service.close();
  if (written !== rows) throw new Error(`naive wrote ${written} of ${rows}`);
  // A serial loop sees the real cost of one call: L plus HTTP and timer overhead.
  return { rowsPerSecond: rows / (ms / 1000), msPerCall: ms / served.calls };
}

/**
 * The client's window is 3% longer than the service's: a request reaches the server a
 * varying ms after its call starts, so a client pacing exactly at the limit sees some of
 * its calls land inside one server window and get 429 (and wait out Retry-After).
 */
const MARGIN = 0.03;

async function main(): Promise<void> {
  const batchSize = 100;
  const scenarios: { name: string; limits: Limits }[] = [
    { name: 'concurrency-bound: L 50 ms, 4 at once, 200 calls/s', limits: { latencyMs: 50, concurrency: 4, calls: 20, per: 100 } },
    { name: 'rate-bound: L 50 ms, 8 at once, 40 calls/s', limits: { latencyMs: 50, concurrency: 8, calls: 4, per: 100 } },
  ];
  const results = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(7);
  for (const { name, limits } of scenarios) {
    const rate = (limits.calls / limits.per) * 1000;
    const ceiling = Math.min(rate, limits.concurrency / (limits.latencyMs / 1000)) * batchSize;
    const rows = Math.round(ceiling * seconds);
    const n = await naive(limits, batchSize, Math.round(rows / 4));
    // The same ceiling with the call time a serial client measured (L + HTTP + timers).
    const effective = Math.min(rate, limits.concurrency / (n.msPerCall / 1000)) * batchSize;
    const s = await stage(limits, batchSize, rows);
    const result = {
      scenario: name, batchSize, rows, clientRate: { calls: limits.calls, per: limits.per * (1 + MARGIN) },
      ceilingRowsPerSecond: Math.round(ceiling),
      measuredMsPerCall: Math.round(n.msPerCall * 10) / 10,
      effectiveCeilingRowsPerSecond: Math.round(effective),
      stageRowsPerSecond: Math.round(s.rowsPerSecond),
      ofCeiling: Math.round((s.rowsPerSecond / ceiling) * 1000) / 10,
      ofEffectiveCeiling: Math.round((s.rowsPerSecond / effective) * 1000) / 10,
      naiveRowsPerSecond: Math.round(n.rowsPerSecond),
      speedupOverNaive: Math.round((s.rowsPerSecond / n.rowsPerSecond) * 10) / 10,
      calls: s.calls, retries: s.retries, throttled: s.throttled, maxInFlight: s.maxInFlight,
      heldRows: s.heldRows, boundRows: s.boundRows,
    };
    results.push(result);
    console.log(`\n${name}; batch ${batchSize}; ${rows.toLocaleString('en-US')} rows`);
    console.log(`  ceiling   ${fmt(ceiling)} rows/s   min(rate, concurrency / L) × batchSize`);
    console.log(`  effective ${fmt(effective)} rows/s   the same with L = ${result.measuredMsPerCall} ms, a call's time as a serial client sees it`);
    console.log(`  stage     ${fmt(s.rowsPerSecond)} rows/s   ${result.ofCeiling}% of the ceiling, ${result.ofEffectiveCeiling}% of the effective one; ` +
      `${s.calls} calls, ${s.retries} retries, ${s.throttled} × 429, ${s.maxInFlight} in flight at most`);
    console.log(`  naive     ${fmt(n.rowsPerSecond)} rows/s   serial: buffer, call, wait, repeat (the stage is ${result.speedupOverNaive}× faster)`);
    console.log(`  memory    at most ${s.heldRows} rows held by the stage (bound: (concurrency + 1) × batchSize + highWaterMark = ${s.boundRows})`);
  }
  writeFileSync(join(new URL('.', import.meta.url).pathname, 'results/service.json'), `${JSON.stringify({ node: process.version, seconds, margin: MARGIN, results }, null, 2)}\n`);
}

if (process.argv[2] === '--serve') {
  await serve(JSON.parse(process.argv[3]) as Limits);
} else {
  await main();
}
