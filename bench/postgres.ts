/**
 * `npx tsx bench/postgres.ts [--rows 1000000] [--write-rows 200000] [--runs 1]`: PostgreSQL
 * read and write paths side by side, each case in a child process of its own, so its peak
 * RSS (`maxRSS`) is its own. With `--runs K` every case runs K times, the cases taking
 * turns (so a burst of other load hits them alike), and the table shows each case's median.
 * Uses DATABASE_URL, else the tests' choice of server.
 *
 * Reads (a table of `rows` × 10 mixed columns): postgres.query at several batch sizes,
 * a bare pg-cursor loop (what the stream wrapper must match), pg-query-stream, a plain
 * client.query (everything in memory), COPY (…) TO STDOUT counting raw bytes (the
 * ceiling), and Python psycopg2 with a named cursor when python3-psycopg2 is installed.
 * Writes (`write-rows` rows, one commit per batch): postgres.write's modes. Each mode at
 * its default batch size and insert also at upsert's and copy's default (5,000), so that
 * the ratios compare like with like; every write case starts from an empty table (upsert
 * then inserts every row), and one upsert case runs over a full one (every row an update).
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { filter, postgres, run } from '../lib/index.js';
import { server, stopServer } from '../test/helpers/postgres.js';
import { exactTypes } from '../lib/postgres/types.js';

const exec = promisify(execFile);
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg('rows', 1_000_000);
const WRITE_ROWS = arg('write-rows', 200_000);
const RUNS = arg('runs', 1);
const READ_TABLE = `sluice_bench_read_${ROWS}`;
const WRITE_TABLE = 'sluice_bench_write';
const COLUMNS = `id int8 PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, flag bool, qty int4, ratio float8, code varchar(8), day date, note text`;
const SELECT = `SELECT id, name, amount, at, flag, qty, ratio, code, day, note FROM ${READ_TABLE}`;

interface Result {
  rows: number;
  ms: number;
  maxRssMb: number;
}

function writeRow(i: number): Record<string, unknown> {
  return {
    id: i,
    name: `name ${i}`,
    amount: (i % 100_000) / 100,
    at: new Date(1_500_000_000_000 + i * 1000),
    flag: i % 2 === 0,
    qty: i % 1000,
    ratio: i / 7,
    code: `C${i % 9999}`,
    day: '2018-06-15',
    note: i % 10 === 0 ? null : 'a note, with "quotes"\tand a tab',
  };
}

const counter = (): Writable & { count: number } => {
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1000,
    write(_row, _encoding, callback) {
      sink.count++;
      callback();
    },
  }) as Writable & { count: number };
  sink.count = 0;
  return sink;
};

/** A raw COPY … TO STDOUT: counts CopyData messages and bytes, parses nothing. */
function copyOutRaw(client: pg.ClientBase, sql: string): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let bytes = 0;
    let error: Error | null = null;
    const submittable = {
      submit: (connection: { query(text: string): void }) => connection.query(sql),
      handleCopyOutResponse() {},
      handleCopyData(message: { chunk: Buffer }) {
        rows++; // the server sends one CopyData per row
        bytes += message.chunk.length;
      },
      handleCommandComplete() {},
      handleReadyForQuery() {
        if (error) reject(error);
        else resolve({ rows, bytes });
      },
      handleError(e: Error) {
        error = e;
        reject(e);
      },
      handleRowDescription() {},
      handleDataRow() {},
      handleEmptyQuery() {},
      handlePortalSuspended() {},
    };
    client.query(submittable as never);
  });
}

const CASES: Record<string, (pool: pg.Pool) => Promise<number | Result>> = {
  'read: postgres.query, batchSize 100': (pool) => run(postgres.query(pool, SELECT, [], { batchSize: 100 }), counter()).then((s) => s.read),
  'read: postgres.query, batchSize 1,000': (pool) => run(postgres.query(pool, SELECT, [], { batchSize: 1000 }), counter()).then((s) => s.read),
  'read: postgres.query, batchSize 10,000': (pool) => run(postgres.query(pool, SELECT, [], { batchSize: 10_000 }), counter()).then((s) => s.read),
  // The rows into a sluice stage: it takes each fetch as one batch (a stream hop per fetch,
  // not per row), so what is left is the wrapper's own cost against the bare loop.
  'read: postgres.query, batchSize 1,000, into a sluice stage': (pool) => {
    let seen = 0;
    return run(postgres.query(pool, SELECT, [], { batchSize: 1000 }), filter(() => (seen++, false))).then((s) => {
      if (seen !== s.read) throw new Error(`the stage saw ${seen} rows of ${s.read}`);
      return seen;
    });
  },
  'read: postgres.query, copy: true': (pool) => run(postgres.query(pool, SELECT, [], { copy: true }), counter()).then((s) => s.read),
  "read: postgres.query, batchSize 1,000, types 'pg'": (pool) =>
    run(postgres.query(pool, SELECT, [], { batchSize: 1000, types: 'pg' }), counter()).then((s) => s.read),
  "read: bare pg-cursor loop, 1,000 (sluice's 'exact' types)": async (pool) => {
    const client = await pool.connect();
    try {
      const cursor = client.query(new Cursor(SELECT, [], { types: exactTypes }));
      let n = 0;
      for (;;) {
        const rows = await new Promise<unknown[]>((resolve, reject) => cursor.read(1000, (e, r) => (e ? reject(e) : resolve(r))));
        n += rows.length;
        if (rows.length < 1000) break;
      }
      await new Promise<void>((resolve) => cursor.close(() => resolve()));
      return n;
    } finally {
      client.release();
    }
  },
  'read: pg-query-stream, 1,000': async (pool) => {
    const client = await pool.connect();
    try {
      let n = 0;
      for await (const _row of client.query(new QueryStream(SELECT, [], { batchSize: 1000 }))) n++;
      return n;
    } finally {
      client.release();
    }
  },
  'read: client.query (all in memory)': async (pool) => (await pool.query(SELECT)).rows.length,
  'read: COPY (…) TO STDOUT, raw bytes': async (pool) => {
    const client = await pool.connect();
    try {
      return (await copyOutRaw(client, `COPY (${SELECT}) TO STDOUT`)).rows;
    } finally {
      client.release();
    }
  },
  'write: insert, batchSize 1,000 (default)': (pool) => writeCase(pool, 'insert', 1000),
  'write: insert, batchSize 5,000': (pool) => writeCase(pool, 'insert', 5000),
  'write: upsert, batchSize 5,000 (default)': (pool) => writeCase(pool, 'upsert', 5000),
  'write: upsert, batchSize 5,000, every row an update': (pool) => writeCase(pool, 'upsert', 5000, true),
  'write: copy, batchSize 1,000': (pool) => writeCase(pool, 'copy', 1000),
  'write: copy, batchSize 5,000 (default)': (pool) => writeCase(pool, 'copy', 5000),
  'write: copy, batchSize 20,000': (pool) => writeCase(pool, 'copy', 20_000),
};

/** Rows/s of a write: the clock runs for the `run` only (not for emptying or filling the table). */
async function writeCase(pool: pg.Pool, mode: 'insert' | 'upsert' | 'copy', batchSize: number, full = false): Promise<Result> {
  await pool.query(`TRUNCATE ${WRITE_TABLE}`);
  if (full) await pool.query(`INSERT INTO ${WRITE_TABLE} (id) SELECT generate_series(1, ${WRITE_ROWS})`);
  function* rows() {
    for (let i = 1; i <= WRITE_ROWS; i++) yield writeRow(i);
  }
  const started = performance.now();
  const summary = await run(rows, postgres.write(pool, { table: WRITE_TABLE, mode, batchSize }));
  return { rows: summary.written, ms: performance.now() - started, maxRssMb: 0 };
}

async function child(name: string, url: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, application_name: 'sluice-bench', max: 2 });
  try {
    const started = performance.now();
    const outcome = await CASES[name](pool);
    const ms = performance.now() - started;
    const result: Result = { ...(typeof outcome === 'number' ? { rows: outcome, ms } : outcome), maxRssMb: process.resourceUsage().maxRSS / 1024 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await pool.end();
  }
}

async function python(url: string): Promise<Result | null> {
  const script = `
import sys, time, resource, psycopg2
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor(name='bench')
cur.itersize = 10000
t = time.time(); n = 0
cur.execute(sys.argv[2])
while True:
    rows = cur.fetchmany(10000)
    if not rows: break
    n += len(rows)
print(n, (time.time() - t) * 1000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
`;
  // The python3 on PATH first, then Debian's (where apt's python3-psycopg2 goes).
  for (const python3 of ['python3', '/usr/bin/python3']) {
    try {
      const { stdout } = await exec(python3, ['-c', script, url, SELECT]);
      const [rows, ms, rss] = stdout.trim().split(' ').map(Number);
      return { rows, ms, maxRssMb: rss };
    } catch {
      // psycopg2 not installed for this python3
    }
  }
  return null;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL || (await server()).url;
  const setup = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const exists = await setup.query(`SELECT 1 FROM pg_tables WHERE tablename = $1`, [READ_TABLE]);
    if (exists.rows.length === 0) {
      console.error(`creating ${READ_TABLE} (${ROWS} rows × 10 columns)…`);
      await setup.query(`CREATE TABLE ${READ_TABLE} (${COLUMNS})`);
      await setup.query(`INSERT INTO ${READ_TABLE} SELECT i, 'name ' || i, (i % 100000) / 100.0, to_timestamp(1500000000 + i), i % 2 = 0, i % 1000, i / 7.0, 'C' || (i % 9999), DATE '2018-06-15' + (i % 365), CASE WHEN i % 10 = 0 THEN NULL ELSE 'a note, with "quotes"' END FROM generate_series(1, ${ROWS}) i`);
      await setup.query(`VACUUM ANALYZE ${READ_TABLE}`);
    }
    await setup.query(`DROP TABLE IF EXISTS ${WRITE_TABLE}; CREATE UNLOGGED TABLE ${WRITE_TABLE} (${COLUMNS})`);
  } finally {
    await setup.end();
  }
  const rate = (r: Result) => r.rows / (r.ms / 1000);
  const PYTHON = 'read: Python psycopg2 named cursor, fetchmany(10000)';
  const samples = new Map<string, Result[]>();
  for (let round = 1; round <= RUNS; round++) {
    for (const name of Object.keys(CASES)) {
      const { stdout } = await exec(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--case', name, '--url', url, '--rows', String(ROWS), '--write-rows', String(WRITE_ROWS)], { maxBuffer: 1 << 20 });
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
      samples.set(name, [...(samples.get(name) ?? []), result]);
      console.error(`${RUNS > 1 ? `[${round}/${RUNS}] ` : ''}${name}: ${Math.round(rate(result)).toLocaleString('en-US')} rows/s`);
    }
    const pyResult = await python(url);
    if (pyResult) samples.set(PYTHON, [...(samples.get(PYTHON) ?? []), pyResult]);
  }
  // Each case's median run (by rows/s).
  const results: [string, Result][] = [...samples].map(([name, runs]) => [name, [...runs].sort((a, b) => rate(a) - rate(b))[Math.floor(runs.length / 2)]]);
  const pyResult = samples.has(PYTHON);
  console.log(`\nPostgreSQL paths (read: ${ROWS.toLocaleString('en-US')} rows × 10 columns; write: ${WRITE_ROWS.toLocaleString('en-US')} rows, one commit per batch${RUNS > 1 ? `; median of ${RUNS} runs` : ''})\n`);
  console.log('| path | rows/s | peak RSS |');
  console.log('|---|---:|---:|');
  for (const [name, r] of results) console.log(`| ${name} | ${Math.round(rate(r)).toLocaleString('en-US')} | ${r.maxRssMb.toFixed(0)} MB |`);
  const get = (name: string) => results.find(([n]) => n === name)?.[1];
  const stream = get('read: postgres.query, batchSize 1,000');
  const bare = get("read: bare pg-cursor loop, 1,000 (sluice's 'exact' types)");
  const copyRead = get('read: postgres.query, copy: true');
  const py = results.find(([n]) => n.startsWith('read: Python'))?.[1];
  const insert1000 = get('write: insert, batchSize 1,000 (default)');
  const insert5000 = get('write: insert, batchSize 5,000');
  const copy = get('write: copy, batchSize 5,000 (default)');
  const upsert = get('write: upsert, batchSize 5,000 (default)');
  const upsertUpdates = get('write: upsert, batchSize 5,000, every row an update');
  // The ratios' denominator: insert at 5,000 (the same batch size) and at its best.
  const insert = insert1000 && insert5000 ? (rate(insert1000) > rate(insert5000) ? insert1000 : insert5000) : (insert1000 ?? insert5000);
  const ratio = (a: Result, b: Result) => `${(rate(a) / rate(b)).toFixed(2)}×`;
  console.log('');
  const intoStage = get('read: postgres.query, batchSize 1,000, into a sluice stage');
  if (stream && bare) console.log(`postgres.query / bare pg-cursor: ${ratio(stream, bare)} into a Writable (one write a row, which the bare loop does not do)`);
  if (intoStage && bare) console.log(`postgres.query into a sluice stage / bare pg-cursor: ${ratio(intoStage, bare)} (target ≥ 0.95×)`);
  if (copyRead && stream) console.log(`copy: true / cursor: ${ratio(copyRead, stream)}`);
  if (copyRead && py) console.log(`copy: true / psycopg2 fetchmany(10000): ${ratio(copyRead, py)} (target ≥ 1.5×)`);
  if (copy && insert && insert5000) console.log(`copy / insert, batchSize 5,000 each: ${ratio(copy, insert5000)}; / the faster insert: ${ratio(copy, insert)} (target ≥ 4×)`);
  if (upsert && insert && insert5000) console.log(`upsert / insert, batchSize 5,000 each: ${ratio(upsert, insert5000)}; / the faster insert: ${ratio(upsert, insert)} (target ≥ 2×)`);
  if (upsertUpdates && insert) console.log(`upsert, every row an update / the faster insert: ${ratio(upsertUpdates, insert)}`);
  if (!pyResult) console.log('Python reference skipped: python3-psycopg2 is not installed.');
  await stopServer();
}

const caseIndex = process.argv.indexOf('--case');
if (caseIndex > 0) await child(process.argv[caseIndex + 1], process.argv[process.argv.indexOf('--url') + 1]);
else await main();
