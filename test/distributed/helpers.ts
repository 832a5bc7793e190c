/** The distributed tests' helpers: sample data, worker and planner processes, engine wrappers, whether BullMQ can run, a log of shared-rate grants. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type pg from 'pg';
import { distributed, type QueueEngine } from '../../lib/index.js';
import type { TestDb } from '../helpers/postgres.js';

/** The engine, with some of its methods replaced (the others called on it, so its state stays its own). */
export function delegate(engine: QueueEngine, overrides: Partial<QueueEngine>): QueueEngine {
  const methods = ['open', 'add', 'waiting', 'unfinished', 'setPlanned', 'planned', 'take', 'close'] as const;
  const bound = Object.fromEntries(methods.map((m) => [m, (engine[m] as (...a: unknown[]) => unknown).bind(engine)]));
  return { kind: engine.kind, ...bound, ...overrides } as QueueEngine;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers PING at REDIS_URL within half a second. */
function redisAnswers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

/** Why the BullMQ suites cannot run here (no Redis answers), or null when they can. */
export async function bullmqUnavailable(): Promise<string | null> {
  if (!(await redisAnswers(REDIS_URL))) return `no Redis answers at ${new URL(REDIS_URL).host} (set REDIS_URL)`;
  return null;
}

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Writes `rows` CSV rows (id, plate, state, fine) and returns the file. */
export async function sampleCsv(file: string, rows: number): Promise<string> {
  const states = ['NY', 'NJ', 'CT', 'PA'];
  const lines = ['id,plate,state,fine'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},P${(i * 7919) % 100000},${states[i % 4]},${(i % 9) * 5 + 10}`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a fixture in a child process; `onStdout` sees its output so far and may kill it. Resolves once it has exited. */
async function runFixture(name: string, env: Record<string, string>, onStdout?: (stdout: string, kill: () => void) => void): Promise<ChildExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    onStdout?.(stdout, () => child.kill('SIGKILL'));
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

const lastJson = (exit: ChildExit) => {
  const last = exit.stdout.trim().split('\n').pop() ?? '';
  return exit.code === 0 && last.startsWith('{') ? JSON.parse(last) : null;
};

export interface WorkerExit extends ChildExit {
  /** The worker's summary (its last stdout line), when it finished. */
  summary: { rows: number; attempts: number; failed: number; redelivered: { split: string; attempt: number; skipped: boolean }[] } | null;
}

/** Starts a worker process (fixtures/load-worker.ts) and resolves once it has exited (by itself or by a signal). */
export async function runWorker(env: Record<string, string>): Promise<WorkerExit> {
  const exit = await runFixture('load-worker.ts', env);
  return { ...exit, summary: lastJson(exit) };
}

export interface PlannerExit extends ChildExit {
  /** Jobs it added and saw acknowledged (its last `enqueued n` line). */
  enqueued: number;
  /** Its plan summary, when it finished. */
  summary: { splits: number; added: number; heldBack: number } | null;
}

/** Runs a planner process (fixtures/planner.ts); with `killAt`, SIGKILLs it once it has enqueued that many jobs. */
export async function runPlanner(env: Record<string, string>, killAt = Infinity): Promise<PlannerExit> {
  const enqueued = (stdout: string) => Number(/enqueued (\d+)\n(?!.*enqueued)/s.exec(stdout)?.[1] ?? 0);
  const exit = await runFixture('planner.ts', killAt === Infinity ? env : { ...env, HOLD_AFTER: String(killAt) }, (stdout, kill) => {
    if (enqueued(stdout) >= killAt) kill();
  });
  return { ...exit, enqueued: enqueued(exit.stdout), summary: lastJson(exit) };
}

/**
 * Logs every grant of a `distributed.sharedRate` slot table as PostgreSQL stamps it (a
 * trigger copies each slot's new `used` time into `<table>_grants`), so a test checks the
 * limit on the server's clock, with no leeway for a client seeing a grant late. Makes the
 * slot table first (through a limiter of its own, taken once before the log starts).
 * Resolves with a reader: for the limiter `name`, the grants logged, the fewest ms from a
 * grant to the `calls`-th after it (`closestMs`: at least `per` when no window of `per` ms
 * holds more than `calls`), the fewest from a grant to the `calls - 1`-th after it
 * (`fullestMs`: below `per` when some window held `calls`, the limit reached), and the ms from
 * the first grant to the last.
 */
export async function logGrants(db: TestDb, pool: pg.Pool, table: string): Promise<(name: string, calls: number) => Promise<{ grants: number; closestMs: number; fullestMs: number; spanMs: number }>> {
  await (await distributed.sharedRate(pool, { name: 'grant-log-probe', calls: 1, per: 1, table }).acquire()).start();
  const log = `${table}_grants`;
  const fn = `${table}_log_grant`;
  await db.query(`CREATE TABLE ${log} (name text NOT NULL, at timestamptz NOT NULL)`);
  await db.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${log} VALUES (NEW.name, NEW.used); RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER log_grant AFTER UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
  return async (name, calls) => {
    const ms = (interval: string) => `(extract(epoch FROM ${interval}) * 1000)::float8`;
    const { rows } = await db.query<{ grants: number; closest: number | null; fullest: number | null; span: number | null }>(
      `SELECT count(*)::int AS grants, ${ms('min(next - at)')} AS closest, ${ms('min(last - at)')} AS fullest, ${ms('max(at) - min(at)')} AS span
       FROM (SELECT at, lead(at, $2) OVER (ORDER BY at) AS next, lead(at, $2 - 1) OVER (ORDER BY at) AS last FROM ${log} WHERE name = $1) g`,
      [name, calls],
    );
    const r = rows[0];
    return { grants: r.grants, closestMs: r.closest ?? Infinity, fullestMs: r.fullest ?? Infinity, spanMs: r.span ?? 0 };
  };
}
