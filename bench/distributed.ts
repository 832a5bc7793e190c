/**
 * `npx tsx bench/distributed.ts [--rows N]`: a CPU-bound CSV → PostgreSQL load (the
 * 43-column parking data, upserted on `Summons Number`) in one process with `run()`, beside
 * `examples/distributed-load.ts` with 1, 2 and 4 worker processes on pg-boss (wall time
 * includes planning and starting the workers); then a service-bound load: 6,000 rows through
 * a fixed-latency HTTP service (50 ms a call, batches of 50, one call at a time per
 * process) under a rate limit of 40 calls/s shared in PostgreSQL, in one process
 * (`distributed.partition`, one split) beside 1, 2 and 4 worker processes on pg-boss (wall
 * time, and the service stage's own: first call to last answer, calls/s); then
 * the queue's overhead per split: 200 one-row splits through pg-boss and BullMQ with
 * `exactlyOnce`, beside the same splits in static mode (`distributed.partition`, no queue).
 * Uses DATABASE_URL, else the tests' choice of server; REDIS_URL for BullMQ (not measured
 * when no Redis answers). Data and results (results.json) go to /tmp/distributed-data.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { callService, csv, distributed, postJson, postgres, run, type QueueEngine } from '../lib/index.js';
import { writeParkingCsv, PARKING_HEADER } from '../examples/sample-data.js';
import { server, stopServer } from '../test/helpers/postgres.js';
import { FakeService } from '../test/helpers/fake-service.js';
import { REDIS_URL, bullmqUnavailable, runWorker, sampleCsv } from '../test/distributed/helpers.js';

const exec = promisify(execFile);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rows = arg('rows', 200_000);
const root = new URL('..', import.meta.url).pathname;
const dir = '/tmp/distributed-data';
mkdirSync(dir, { recursive: true });
const input = join(dir, `bench-${rows}.csv`);
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');

const url = process.env.DATABASE_URL || (await server()).url;
const pool = new pg.Pool({ connectionString: url, max: 4 });
const SCHEMA = 'sluice_bench_pgboss';

async function freshTable(table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${quote(table)}`);
  await pool.query(`CREATE TABLE ${quote(table)} (${PARKING_HEADER.map((h) => `${quote(h)} text${h === 'Summons Number' ? ' PRIMARY KEY' : ''}`).join(', ')})`);
}

try {
  await writeParkingCsv(input, { rows, seed: 1 });
  const results: Record<string, unknown> = { rows };
  console.log(`CSV → PostgreSQL upsert, ${rows.toLocaleString('en-US')} rows (2 shared cores: numbers are noisy)`);

  await freshTable('bench_single');
  let started = Date.now();
  await run(csv.read(input, { rows: 'objects' }), postgres.write(pool, { table: 'bench_single', mode: 'upsert', key: ['Summons Number'] }));
  const single = Date.now() - started;
  console.log(`  one process, run():          ${(single / 1000).toFixed(2)} s, ${rate(rows, single)} rows/s`);
  results.single = single;

  for (const workers of [1, 2, 4]) {
    const table = `bench_w${workers}`;
    await freshTable(table);
    await pool.query(`DELETE FROM sluice_split_done WHERE job = $1`, [`load-${table}`]).catch(() => {});
    started = Date.now();
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/distributed-load.ts'), input, table, '--workers', String(workers), '--splits', '32'], {
      env: { ...process.env, DATABASE_URL: url, PGBOSS_SCHEMA: SCHEMA },
    });
    const ms = Date.now() - started;
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    console.log(`  distributed-load, ${workers} worker${workers > 1 ? 's' : ' '}:  ${(ms / 1000).toFixed(2)} s, ${rate(summary.rows, ms)} rows/s (${summary.splits} splits)`);
    results[`workers${workers}`] = ms;
  }

  // Service-bound: a fixed-latency service under a shared rate limit.
  const SVC = { rows: 6000, batch: 50, latencyMs: 50, calls: 4, per: 100 };
  const service = await FakeService.start();
  service.reply = () => ({ delayMs: SVC.latencyMs });
  const svcFile = await sampleCsv(join(dir, 'bench-service.csv'), SVC.rows);
  const svcCalls = Math.ceil(SVC.rows / SVC.batch);
  // The service stage's own time: from the run's first call's arrival to its last answer
  // (leaves out starting the worker processes and planning, which the wall time includes).
  const calling = (from: number) => {
    const calls = service.requests.slice(from);
    const ms = calls[calls.length - 1].at + SVC.latencyMs - calls[0].at;
    return { ms, perSecond: (calls.length / (ms / 1000)).toFixed(1) };
  };
  console.log(`service-bound: ${SVC.rows} rows, ${svcCalls}+ calls of ${SVC.batch} rows, ${SVC.latencyMs} ms each, shared limit ${(SVC.calls * 1000) / SVC.per} calls/s:`);
  try {
    await pool.query(`DROP TABLE IF EXISTS bench_svc; CREATE TABLE bench_svc (id int, plate text, state text, fine int); DROP TABLE IF EXISTS bench_svc_slots`);
    const rateOptions = { name: 'bench', calls: SVC.calls, per: SVC.per, table: 'bench_svc_slots' };
    started = Date.now();
    await distributed.partition({
      index: 0, count: 1, splits: 1, name: 'svc-single', source: csv.split<string[]>(svcFile),
      pipeline: (r, { split }) => [
        r,
        callService(postJson<string[], string[]>(service.url), { batchSize: SVC.batch, rate: distributed.sharedRate(pool, rateOptions), idempotencyKey: (_rows, b) => `${split.id}:${b}` }),
        postgres.write(pool, { table: 'bench_svc' }),
      ],
    });
    const svcSingle = Date.now() - started;
    let stage = calling(0);
    console.log(`  one process:   ${(svcSingle / 1000).toFixed(2)} s, ${rate(SVC.rows, svcSingle)} rows/s; the service stage ${(stage.ms / 1000).toFixed(2)} s, ${stage.perSecond} calls/s`);
    Object.assign(results, { serviceSingle: svcSingle, serviceStageSingle: stage.ms });
    const stageSingle = stage.ms;
    for (const workers of [1, 2, 4]) {
      await pool.query(`TRUNCATE bench_svc`);
      const name = `svc-${workers}-${Date.now()}`;
      const engine = distributed.pgBoss(pool, { schema: SCHEMA });
      started = Date.now();
      const first = service.requests.length;
      await distributed.job({ engine, name, source: csv.split(svcFile), pipeline: (r) => [r] }).plan({ splits: 24 });
      const exits = await Promise.all(Array.from({ length: workers }, () => runWorker({
        ENGINE: 'pg-boss', PGBOSS_SCHEMA: SCHEMA, EXPIRE: '60', DATABASE_URL: url, QUEUE: name, FILE: svcFile, TABLE: 'bench_svc', MARKERS: 'bench_svc_done',
        EXACTLY_ONCE: '1', BATCH: '250', SERVICE_URL: service.url, SERVICE_BATCH: String(SVC.batch), RATE_CALLS: String(SVC.calls), RATE_PER: String(SVC.per), RATE_TABLE: 'bench_svc_slots',
      })));
      const ms = Date.now() - started;
      await engine.close();
      if (exits.some((e) => e.code !== 0)) throw new Error(exits.map((e) => e.stderr).join('\n'));
      stage = calling(first);
      console.log(`  ${workers} worker${workers > 1 ? 's' : ' '}:     ${(ms / 1000).toFixed(2)} s, ${rate(SVC.rows, ms)} rows/s; the service stage ${(stage.ms / 1000).toFixed(2)} s, ${stage.perSecond} calls/s, ${(stageSingle / stage.ms).toFixed(2)}× one process's`);
      Object.assign(results, { [`serviceWorkers${workers}`]: ms, [`serviceStageWorkers${workers}`]: stage.ms });
    }
  } finally {
    await service.close();
  }

  // Queue overhead: 200 one-row splits, static mode vs pg-boss and BullMQ.
  const small = join(dir, 'bench-200.csv');
  writeFileSync(small, 'id\n' + Array.from({ length: 200 }, (_, i) => `${i}\n`).join(''));
  await pool.query(`DROP TABLE IF EXISTS bench_ids; CREATE TABLE bench_ids (id text)`);
  const source = csv.split<string[]>(small);
  const once = { pool, markers: 'bench_split_done' };
  await pool.query(`DROP TABLE IF EXISTS bench_split_done`);
  started = Date.now();
  const staticRun = await distributed.partition({ index: 0, count: 1, splits: 200, name: 'static', source, exactlyOnce: once, pipeline: (r, { client }) => [r, postgres.write(client!, { table: 'bench_ids' })] });
  const staticMs = Date.now() - started;
  const overhead = async (engine: QueueEngine & { obliterate?(queue: string): Promise<void> }) => {
    const name = `bench-${engine.kind}-${Date.now()}`;
    await pool.query(`TRUNCATE bench_ids`);
    const job = distributed.job({ engine, name, source, exactlyOnce: once, pipeline: (r, { client }) => [r, postgres.write(client!, { table: 'bench_ids' })] });
    const begun = Date.now();
    await job.plan({ splits: 200 });
    const planMs = Date.now() - begun;
    const worked = await job.work({ pollMs: 10 });
    const ms = Date.now() - begun;
    await engine.obliterate?.(name);
    await engine.close();
    return { planMs, ms, n: worked.splits.length };
  };
  const boss = await overhead(distributed.pgBoss(pool, { schema: SCHEMA }));
  const n = boss.n; // fewer than 200: cuts of a tiny file coincide
  const perSplit = (ms: number) => `${(ms / n).toFixed(1)} ms/split`;
  console.log(`queue overhead, ${n} one-row splits with exactlyOnce (static mode ran ${staticRun.splits.length}):`);
  console.log(`  static mode: ${perSplit(staticMs)}`);
  console.log(`  pg-boss:     ${perSplit(boss.ms)} (plan ${perSplit(boss.planMs)}) → ${perSplit(boss.ms - staticMs)} for the queue`);
  Object.assign(results, { splits: n, staticMsPerSplit: staticMs / n, pgBossMsPerSplit: boss.ms / n });
  const noRedis = await bullmqUnavailable();
  if (noRedis) console.log(`  BullMQ:      not measured (${noRedis})`);
  else {
    const bull = await overhead(distributed.bullmq(REDIS_URL, { prefix: `sluice-bench-${process.pid}` }));
    console.log(`  BullMQ:      ${perSplit(bull.ms)} (plan ${perSplit(bull.planMs)}) → ${perSplit(bull.ms - staticMs)} for the queue`);
    results.bullmqMsPerSplit = bull.ms / n;
  }
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
} finally {
  for (const t of ['bench_single', 'bench_w1', 'bench_w2', 'bench_w4', 'bench_ids', 'bench_split_done', 'bench_svc', 'bench_svc_done', 'bench_svc_slots']) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pool.end();
  await stopServer();
}
