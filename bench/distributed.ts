/**
 * `npx tsx bench/distributed.ts [--rows N]`: a CPU-bound CSV → PostgreSQL load (the
 * 43-column parking data, upserted on `Summons Number`) in one process with `run()`, beside
 * `examples/distributed-load.ts` with 1, 2 and 4 worker processes on pg-boss (wall time
 * includes planning and starting the workers); then the queue's overhead per split: 200
 * one-row splits through pg-boss with `exactlyOnce`, beside the same splits in static mode
 * (`distributed.partition`, no queue). Uses DATABASE_URL, else the tests' choice of server.
 * Data and results (results.json) go to /tmp/distributed-data. BullMQ is not measured where its client package
 * (ioredis) is missing.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { csv, distributed, postgres, run } from '../lib/index.js';
import { writeParkingCsv, PARKING_HEADER } from '../examples/sample-data.js';
import { server, stopServer } from '../test/helpers/postgres.js';

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

  // Queue overhead: 200 one-row splits, static mode vs pg-boss.
  const small = join(dir, 'bench-200.csv');
  writeFileSync(small, 'id\n' + Array.from({ length: 200 }, (_, i) => `${i}\n`).join(''));
  await pool.query(`DROP TABLE IF EXISTS bench_ids; CREATE TABLE bench_ids (id text)`);
  const source = csv.split<string[]>(small);
  const once = { pool, markers: 'bench_split_done' };
  await pool.query(`DROP TABLE IF EXISTS bench_split_done`);
  started = Date.now();
  const staticRun = await distributed.partition({ index: 0, count: 1, splits: 200, name: 'static', source, exactlyOnce: once, pipeline: (r, { client }) => [r, postgres.write(client!, { table: 'bench_ids' })] });
  const staticMs = Date.now() - started;
  const engine = distributed.pgBoss(pool, { schema: SCHEMA });
  const job = distributed.job({ engine, name: `bench-${Date.now()}`, source, exactlyOnce: once, pipeline: (r, { client }) => [r, postgres.write(client!, { table: 'bench_ids' })] });
  started = Date.now();
  await job.plan({ splits: 200 });
  const planMs = Date.now() - started;
  const worked = await job.work({ pollMs: 10 });
  const queueMs = Date.now() - started;
  await engine.close();
  const n = worked.splits.length; // fewer than 200: cuts of a tiny file coincide
  console.log(`queue overhead, ${n} one-row splits (static mode ran ${staticRun.splits.length}):`);
  console.log(`  static mode: ${(staticMs / n).toFixed(1)} ms/split; pg-boss: ${(queueMs / n).toFixed(1)} ms/split (plan ${(planMs / n).toFixed(1)}) → ${((queueMs - staticMs) / n).toFixed(1)} ms/split for the queue`);
  console.log('  BullMQ: not measured here (its client package, ioredis, is not installed)');
  Object.assign(results, { splits: n, staticMsPerSplit: staticMs / n, pgBossMsPerSplit: queueMs / n });
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
} finally {
  for (const t of ['bench_single', 'bench_w1', 'bench_w2', 'bench_w4', 'bench_ids', 'bench_split_done']) await pool.query(`DROP TABLE IF EXISTS ${t}`);
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pool.end();
  await stopServer();
}
