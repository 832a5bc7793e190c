/**
 * The distributed part of `npm run demo`: `examples/distributed-load.ts` loads 20,000 rows of
 * the sample data into a table through pg-boss with 3 worker processes, and one worker is
 * SIGKILLed once two splits have committed; the load replaces it and still writes every row
 * exactly once. Everything it makes (queue, done-markers, table) lives in a schema of this
 * run's own, dropped afterwards. Database: DATABASE_URL, else the tests' choice (see
 * examples/postgres-to-csv.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopServer, withParams } from '../test/helpers/postgres.js';
import { examplePool } from './postgres-to-csv.js';
import { writeParkingCsv } from './sample-data.js';

const ROWS = 20_000;
const WORKERS = 3;

export async function distributedDemo(dir: string): Promise<void> {
  const input = join(dir, `parking-${ROWS}.csv`);
  if (!existsSync(input)) await writeParkingCsv(input, { rows: ROWS, seed: 1 });
  const pool = await examplePool();
  const schema = `sluice_demo_distributed_${process.pid}`;
  const url = withParams((pool as unknown as { options: { connectionString: string } }).options.connectionString, { options: `-c search_path=${schema}` });
  console.log(`distributed-load: ${input} → a table, ${WORKERS} worker processes on pg-boss, one SIGKILLed midway`);
  await pool.query(`CREATE SCHEMA ${schema}`);
  try {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./distributed-load.ts', import.meta.url)), input, 'tickets', '--workers', String(WORKERS), '--engine', 'pg-boss', '--expire', '2'], {
      env: { ...process.env, DATABASE_URL: url, PGBOSS_SCHEMA: schema },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let done = false;
    void exited.then(() => (done = true));
    // The kill: the first worker, once two splits have committed.
    const killing = (async () => {
      for (; !done; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const first = /worker (\d+) started/.exec(stderr);
        const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.sluice_split_done`).catch(() => ({ rows: [{ n: 0 }] }));
        if (first && rows[0].n >= 2) return void process.kill(Number(first[1]), 'SIGKILL');
      }
    })();
    const [code] = await exited;
    await killing;
    if (code !== 0) throw new Error(`distributed-load failed (exit code ${code}):\n${stderr}`);
    const ms = Date.now() - started;
    const s = JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; splits: number; attempts: number; rejected: number };
    const { rows } = await pool.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT "Summons Number")::int AS d FROM ${schema}.tickets`);
    const replaced = (stderr.match(/starting another/g) ?? []).length;
    console.log(`  ${s.rows} rows in ${s.splits} splits, ${s.attempts} deliveries, ${s.rejected} rejected; ${replaced} worker replaced; ` +
      `table: ${rows[0].n} rows, ${rows[0].d} distinct keys; ${(ms / 1000).toFixed(2)} s (with starting ${WORKERS + replaced} worker processes)`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
    await stopServer();
  }
}
