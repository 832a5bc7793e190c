/**
 * The PostgreSQL part of `npm run demo`: loads the sample CSV into a table with
 * `postgres.write`, reads it back through the cursor source into nj-ford-police, and
 * shows that a read's memory does not grow with the table: a child process reads a
 * 100,000-row and then a 1,000,000-row table, each reporting its own peak RSS.
 * Database: DATABASE_URL, else the tests' choice (see examples/postgres-to-csv.ts).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import { postgres, run } from '../lib/index.js';
import { stopServer } from '../test/helpers/postgres.js';
import { finesFromPostgres, loadCodes } from './fines.js';
import { progressPrinter } from './progress.js';
import { dropTable, examplePool, loadCsv, readNjFordPolice } from './postgres-to-csv.js';

const exec = promisify(execFile);
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US');

/** Runs `fn` while sampling this process's RSS; returns its result and the peak. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

/** In a child process: reads a `rows`-row table through postgres.query and prints rows, ms and peak RSS. */
async function readInChild(url: string, table: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, application_name: 'sluice-demo', max: 1 });
  try {
    let rows = 0;
    const started = performance.now();
    await run(
      postgres.query(pool, `SELECT * FROM ${table}`),
      new Writable({
        objectMode: true,
        highWaterMark: 1000,
        write(_row, _encoding, callback) {
          rows++;
          callback();
        },
      }),
    );
    process.stdout.write(`${JSON.stringify({ rows, ms: performance.now() - started, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
  } finally {
    await pool.end();
  }
}

export async function postgresDemo(input: string, dir: string): Promise<void> {
  const pool = await examplePool();
  const url = (pool as unknown as { options: { connectionString: string } }).options.connectionString;
  try {
    console.log(`postgres: ${input} → a table (postgres.write, COPY) → nj-ford-police (postgres.query) → ${join(dir, 'postgres-nj-ford-police.csv')}`);
    const loading = progressPrinter();
    const load = await measured(() => loadCsv(pool, input, loading.options)).finally(loading.stop);
    const s = load.result.summary;
    console.log(`  load: ${s.written} rows in ${(s.ms / 1000).toFixed(2)} s, ${rate(s.written, s.ms)} rows/s, peak RSS ${mb(load.peak)}`);
    try {
      const reading = progressPrinter();
      const read = await measured(() => readNjFordPolice(pool, load.result, join(dir, 'postgres-nj-ford-police.csv'), reading.options)).finally(reading.stop);
      const r = read.result;
      console.log(`  read: ${r.read} rows in, ${r.written} out, in ${(r.ms / 1000).toFixed(2)} s, ${rate(r.read, r.ms)} rows/s, peak RSS ${mb(read.peak)}`);
    } finally {
      await dropTable(pool, load.result);
    }
    // The memory bound: the same read over 10× the rows, each in a fresh process.
    const peaks: string[] = [];
    for (const rows of [100_000, 1_000_000]) {
      const table = `sluice_demo_${process.pid}_${rows}`;
      await pool.query(`CREATE TABLE ${table} AS SELECT i AS id, 'name ' || i AS name, (i % 100000) / 100.0 AS amount, to_timestamp(1500000000 + i) AS at, i % 2 = 0 AS flag, repeat('x', 40) AS note FROM generate_series(1, ${rows}) i`);
      try {
        const { stdout } = await exec(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--read', url, table]);
        const c = JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; ms: number; maxRss: number };
        peaks.push(`${c.rows.toLocaleString('en-US')} rows: ${rate(c.rows, c.ms)} rows/s, peak RSS ${mb(c.maxRss)}`);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS ${table}`);
      }
    }
    console.log(`  memory bound (a whole-table read in a fresh process): ${peaks.join('; ')}`);
    // A lookup join against PostgreSQL: fines-by-state with its fines in a table (examples/fines-from-postgres.ts).
    const codes = `sluice_demo_codes_${process.pid}`;
    const fines = join(dir, 'fines-from-postgres.csv');
    console.log(`fines-from-postgres: ${input} + ${join(dir, 'codes.csv')} (as a table, postgres.lookup) → ${fines}`);
    await loadCodes(pool, join(dir, 'codes.csv'), codes);
    try {
      const looked = await measured(() => finesFromPostgres(pool, codes, input, fines));
      const same = (await readFile(fines, 'utf8')) === (await readFile(join(dir, 'fines-by-state.csv'), 'utf8'));
      const f = looked.result;
      console.log(`  rows in ${f.read}, out ${f.written}; ${(f.ms / 1000).toFixed(2)} s, ${rate(f.read, f.ms)} rows/s, peak RSS ${mb(looked.peak)}; ` +
        `output ${same ? 'identical to' : 'DIFFERENT from'} fines-by-state.csv (the codes from a CSV file)`);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${codes}`);
    }
  } finally {
    await pool.end();
    await stopServer();
  }
}

const readIndex = process.argv.indexOf('--read');
if (readIndex > 0 && import.meta.url === `file://${process.argv[1]}`) await readInChild(process.argv[readIndex + 1], process.argv[readIndex + 2]);
