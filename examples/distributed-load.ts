/**
 * `npx tsx examples/distributed-load.ts IN.csv TABLE --workers N --engine pg-boss|bullmq`:
 * plans IN into byte-range splits (`--splits S`, default 8 per worker), enqueues one job per
 * split (the queue redelivers a split whose worker stopped beating `--expire` seconds,
 * default 10, after its last beat: pg-boss's expiry, BullMQ's lock), starts N worker
 * processes (children of this one) and loads every row into TABLE (created if absent, every column text, `Summons Number` the key; rows are upserted), then
 * prints a JSON summary as its last line: `{"rows":…,"splits":…,"attempts":…,"rejected":…}`.
 *
 * A worker killed at any moment (even with SIGKILL) loses nothing: its split's transaction
 * rolls back, the queue redelivers the split, and this process starts another worker in
 * its place. Each split's rows commit with its done-marker, so every row lands exactly
 * once and a second run of the same load writes nothing.
 *
 * Environment: DATABASE_URL (else the tests' choice of server, see postgres-to-csv.ts),
 * REDIS_URL for BullMQ (default redis://127.0.0.1:6379), PGBOSS_SCHEMA (default
 * `sluice_pgboss`), BULLMQ_PREFIX (default `sluice-example`). The workers read them from their own environment: the queue carries
 * split descriptors only.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { csv, distributed, pipe, postgres, take, type QueueEngine } from '../lib/index.js';
import { server, stopServer } from '../test/helpers/postgres.js';

const KEY = 'Summons Number';
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface Args {
  input: string;
  table: string;
  workers: number;
  engine: 'pg-boss' | 'bullmq';
  splits: number;
  /** Seconds after a dead worker's last heartbeat before its split is redelivered (pg-boss's expiry, BullMQ's lock). */
  expire: number;
  worker: boolean;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--worker') flags.worker = '1';
    else if (argv[i].startsWith('--')) flags[argv[i].slice(2)] = argv[++i] ?? '';
    else positional.push(argv[i]);
  }
  const [input, table] = positional;
  const usage = 'usage: npx tsx examples/distributed-load.ts IN.csv TABLE --workers N --engine pg-boss|bullmq [--splits S] [--expire SECONDS]';
  /** A whole number ≥ 1 given as `--name`, or the fallback. */
  const count = (name: string, fallback: number): number => {
    const value = flags[name] === undefined ? fallback : Number(flags[name]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number from 1 up, got '${flags[name]}'\n${usage}`);
    return value;
  };
  const engine = (flags.engine ?? 'pg-boss') as Args['engine'];
  if (!input || !table || !['pg-boss', 'bullmq'].includes(engine)) throw new Error(usage);
  const workers = count('workers', 2);
  return { input, table, workers, engine, splits: count('splits', workers * 8), expire: count('expire', 10), worker: flags.worker === '1' };
}

/** The queue's name for a load of IN into TABLE: the same load is the same job. */
const queueName = (table: string) => `load-${table.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 100);

function makeEngine(args: Args, pool: pg.Pool): QueueEngine {
  return args.engine === 'bullmq'
    ? distributed.bullmq(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix: process.env.BULLMQ_PREFIX ?? 'sluice-example', lockDuration: args.expire * 1000 })
    : distributed.pgBoss(pool, { schema: process.env.PGBOSS_SCHEMA ?? 'sluice_pgboss', expireInSeconds: args.expire, maintenanceIntervalSeconds: 1 });
}

/** The job, built the same way in the planner and in every worker. */
function loadJob(args: Args, pool: pg.Pool, engine: QueueEngine) {
  return distributed.job({
    engine,
    name: queueName(args.table),
    // A ragged row is rejected (reported with its split and file line, counted in the summary).
    source: csv.split(args.input, { rows: 'objects', ragged: 'reject' }),
    exactlyOnce: { pool, markers: 'sluice_split_done' },
    rejects: (r) => console.error(`distributed-load: rejected ${r.origin?.source}, line ${r.origin?.line} (split ${r.split}): ${r.reason}`),
    pipeline: (rows, { client }) => [rows, postgres.write(client!, { table: args.table, mode: 'upsert', key: [KEY] })],
  });
}

async function header(input: string): Promise<string[]> {
  for await (const row of pipe(csv.read(input, { header: false }), take(1))) return row as string[];
  throw new Error(`${input} is empty`);
}

/** A worker process: runs splits until the queue is drained. */
async function worker(args: Args): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, application_name: 'sluice-example-worker' });
  const engine = makeEngine(args, pool);
  try {
    const summary = await loadJob(args, pool, engine).work({ pollMs: 100 });
    console.log(JSON.stringify({ pid: process.pid, rows: summary.rows, splits: summary.splits.length, failed: summary.failed }));
  } finally {
    await engine.close();
    await pool.end();
  }
}

/** Starts a worker process; resolves with how it ended. */
const children = new Set<ReturnType<typeof spawn>>();

function startWorker(args: Args, url: string): { pid: number | undefined; ended: Promise<[number | null, NodeJS.Signals | null]> } {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self, args.input, args.table, '--engine', args.engine, '--expire', String(args.expire), '--worker'], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  console.error(`distributed-load: worker ${child.pid} started`);
  const ended = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  void ended.then(() => children.delete(child));
  return { pid: child.pid, ended };
}

/** The planner: makes the table, enqueues the splits, keeps N workers running until the queue is drained. */
async function planner(args: Args): Promise<void> {
  const url = process.env.DATABASE_URL || (await server()).url;
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'sluice-example' });
  const engine = makeEngine(args, pool);
  try {
    const names = await header(args.input);
    if (!names.includes(KEY)) throw new Error(`${args.input} has no "${KEY}" column`);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${quote(args.table)} (${names.map((n) => `${quote(n)} text${n === KEY ? ' PRIMARY KEY' : ''}`).join(', ')})`);
    const job = loadJob(args, pool, engine);
    // The workers start at once: the planner holds back while more than 16 jobs per worker
    // wait, so they must already be taking jobs.
    const planning = job.plan({ splits: args.splits, maxWaiting: args.workers * 16 });
    let restarts = 0;
    const slot = async (): Promise<void> => {
      for (;;) {
        const [code, signal] = await startWorker(args, url).ended;
        if (code === 0) return;
        // Replaced unless the load is done: a worker killed before the first job was
        // enqueued (nothing unfinished yet) is replaced all the same.
        const queue = queueName(args.table);
        const ended = `distributed-load: a worker ended (${signal ?? `exit code ${code}`})`;
        if ((await engine.planned(queue)) !== null && (await engine.unfinished(queue)) === 0) return void console.error(`${ended}; the load is done, none needed in its place`);
        if (++restarts > args.workers * 5) throw new Error(`distributed-load: workers keep failing (last: ${signal ?? `exit code ${code}`})`);
        console.error(`${ended}; starting another`);
      }
    };
    const working = Promise.all(Array.from({ length: args.workers }, slot));
    try {
      await planning;
    } catch (error) {
      for (const child of children) child.kill(); // they would wait for a plan that never completes
      await working.catch(() => {});
      throw error;
    }
    await working;
    const progress = await job.progress();
    console.log(JSON.stringify({ rows: progress.rows, splits: progress.splits, attempts: progress.attempts, rejected: progress.rejected }));
  } finally {
    await engine.close();
    await pool.end();
    await stopServer();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const args = parseArgs(process.argv.slice(2));
    await (args.worker ? worker(args) : planner(args));
  } catch (error) {
    console.error(`distributed-load: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
