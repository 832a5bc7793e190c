/**
 * The proof on this machine, for each engine: 200,000 rows, 200 splits, 4 worker
 * processes calling a paid service (a real HTTP server on 127.0.0.1, a rate limit the
 * workers share in PostgreSQL, idempotency keys from split and batch) before the sink. One
 * worker SIGKILLs itself in the middle of a batch; the planner, a process of its own, is
 * SIGKILLed while it enqueues and started again. The table then holds every row exactly
 * once with one done-marker per split, nothing was enqueued twice, the service saw each
 * batch at most 1 + 1 times (the killed worker had one split, so one run of batches, in
 * flight) and no window above the limit. A negative control with a plain (non-idempotent)
 * sink shows the duplicates the test would otherwise miss.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { csv, distributed } from '../../lib/index.js';
import { FakeService, mostInWindow } from '../helpers/fake-service.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { usePostgres, type TestDb } from '../helpers/postgres.js';
import { REDIS_URL, bullmqUnavailable, logGrants, runPlanner, runWorker, sampleCsv } from './helpers.js';

interface EngineSpec {
  kind: 'pg-boss' | 'bullmq';
  /** What the child processes need to build the engine. */
  env(db: TestDb): Record<string, string>;
  /** The queue's jobs by state (states with none left out). */
  jobs(db: TestDb, queue: string): Promise<Record<string, number>>;
  /** Removes what the queue left outside the test's schema. */
  remove(queue: string): Promise<void>;
}

const prefix = `sluice-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const specs: EngineSpec[] = [
  {
    kind: 'pg-boss',
    env: (db) => ({ ENGINE: 'pg-boss', PGBOSS_SCHEMA: db.schema }),
    jobs: async (db, queue) => {
      const { rows } = await db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ${db.schema}.job WHERE name = $1 GROUP BY state`, [queue]);
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    },
    remove: async () => {}, // pg-boss's tables live in the test's schema, dropped after the file
  },
  {
    kind: 'bullmq',
    env: () => ({ ENGINE: 'bullmq', PREFIX: prefix, REDIS_URL }),
    jobs: async (_db, name) => {
      const { Queue } = await import('bullmq');
      const u = new URL(REDIS_URL);
      const queue = new Queue(name, { connection: { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null }, prefix });
      try {
        return Object.fromEntries(Object.entries(await queue.getJobCounts()).filter(([, n]) => n > 0));
      } finally {
        await queue.close();
      }
    },
    remove: async (queue) => {
      const engine = distributed.bullmq(REDIS_URL, { prefix });
      await engine.obliterate(queue);
      await engine.close();
    },
  },
];

const bullmqMissing = await bullmqUnavailable();
// The one suite allowed not to run: BullMQ without a Redis (or its client package) here.
if (bullmqMissing) console.log(`  BullMQ crash suite NOT RUN: ${bullmqMissing}`);

for (const spec of specs.filter((s) => s.kind === 'pg-boss' || !bullmqMissing)) describe(`distributed.job() on ${spec.kind}: a SIGKILLed worker and a SIGKILLed planner lose nothing`, function () {
  this.timeout(120_000);
  const db = usePostgres();
  const tag = spec.kind.replace('-', '');
  let tmp: TempDir;
  let pool: pg.Pool;

  before(async () => {
    tmp = await tempDir('sluice-crash-test-');
    pool = db.pool({ max: 2 });
  });
  after(() => tmp.remove());

  /**
   * Runs `workers` worker processes on a fresh queue while a planner process enqueues
   * `splits` jobs and is SIGKILLed a third of the way (it goes on adding while the test
   * reads its output, so the kill lands mid-enqueue), then started again.
   */
  async function load(options: { rows: number; splits: number; workers: number; killAt: number; exactlyOnce: boolean; table: string; service?: Record<string, string> }) {
    const file = await sampleCsv(tmp.file(`${options.table}.csv`), options.rows);
    await db.query(`CREATE TABLE ${db.schema}.${options.table} (id int, plate text, state text, fine int)`);
    const queue = `crash-${spec.kind}-${options.table}`;
    const env = {
      ...spec.env(db), DATABASE_URL: db.url, QUEUE: queue, FILE: file, SPLITS: String(options.splits), TABLE: options.table,
      MARKERS: `${db.schema}.done`, EXACTLY_ONCE: options.exactlyOnce ? '1' : '0', BATCH: '250', KILL_AT: String(options.killAt),
      ...options.service,
    };
    const workers = Array.from({ length: options.workers }, () => runWorker(env));
    const third = Math.floor(options.splits / 3);
    const first = await runPlanner(env, third);
    expect(first.signal, first.stderr).to.equal('SIGKILL');
    expect(first.enqueued).to.be.within(third, options.splits - 1);
    const second = await runPlanner(env);
    expect(second.summary?.splits, second.stderr).to.equal(options.splits);
    // Nothing enqueued twice: the restarted planner added exactly what the first had not
    // (whose last add may have reached the queue without its answer being read).
    expect(options.splits - second.summary!.added).to.be.within(first.enqueued, first.enqueued + 1);
    const exits = await Promise.all(workers);
    expect(await spec.jobs(db, queue)).to.deep.equal({ completed: options.splits });
    await spec.remove(queue);
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.${options.table}`);
    return { exits, rows: Number(rows[0].n), distinct: Number(rows[0].d), queue, file };
  }

  it('200,000 rows, 200 splits, 4 workers through a paid service; a worker SIGKILLed mid-batch, the planner mid-enqueue: every row once, 200 done-markers, each batch called at most 1 + 1 times, no window above the shared limit', async () => {
    const service = await FakeService.start();
    try {
      // 20 calls/s of 500 rows: below what four unlimited workers send here (their CPU, not
      // the service, bounds them), so the limit sets the pace: ~500 calls in ~25 s.
      const SERVICE_BATCH = 500;
      const CALLS = 5;
      const PER = 250;
      const KILL_AT = 100_600;
      const slots = `${db.schema}.slots_${tag}`;
      const grantsOf = await logGrants(db, pool, slots);
      const env = { SERVICE_URL: service.url, SERVICE_BATCH: String(SERVICE_BATCH), RATE_CALLS: String(CALLS), RATE_PER: String(PER), RATE_TABLE: slots };
      const { exits, rows, distinct, queue, file } = await load({ rows: 200_000, splits: 200, workers: 4, killAt: KILL_AT, exactlyOnce: true, table: `violations_${tag}`, service: env });

      // The table: every row exactly once, a done-marker per split.
      const killed = exits.filter((e) => e.signal === 'SIGKILL');
      const finished = exits.filter((e) => e.code === 0);
      const told = exits.map((e) => `exit ${e.code ?? e.signal}: ${e.stderr}`).join('\n');
      expect(killed, told).to.have.length(1);
      expect(finished, told).to.have.length(3);
      expect({ rows, distinct }).to.deep.equal({ rows: 200_000, distinct: 200_000 });
      const markers = await db.query<{ n: string; rows: string }>(`SELECT count(*) AS n, sum(rows) AS rows FROM ${db.schema}.done WHERE job = $1`, [queue]);
      expect(markers.rows[0]).to.deep.equal({ n: '200', rows: '200000' });
      // The killed worker's split came back (attempt 2) and was run whole by a survivor.
      const redelivered = finished.flatMap((e) => e.summary!.redelivered).filter((r) => !r.skipped);
      expect(redelivered.map((r) => r.attempt)).to.deep.equal([2]);
      expect(finished.reduce((n, e) => n + e.summary!.failed, 0)).to.equal(0);

      // The service: every batch called; a split of r rows makes ⌈r / 500⌉ batches (r from the plan).
      const splits = await csv.split(file).plan(200);
      const rowsIn = splits.map((sp, i) => (i + 1 < splits.length ? splits[i + 1].line : 200_000 + 2) - sp.line - (i === 0 ? 1 : 0));
      const seen = new Map<string, number>();
      for (const r of service.requests) seen.set(r.key!, (seen.get(r.key!) ?? 0) + 1);
      expect(seen.size).to.equal(rowsIn.reduce((n, r) => n + Math.ceil(r / SERVICE_BATCH), 0));
      // At most 1 + 1 calls a batch: only the killed split ran twice, and the killed worker
      // had that one split in flight. Its batches called twice are those its first attempt
      // had called: the ones up to the crash row, and at most the next, in flight then.
      expect(Math.max(...seen.values())).to.equal(2);
      const killedAt = splits.findIndex((sp) => sp.id === redelivered[0].split);
      const batchesOf = (n: number) => [...seen].filter(([key, count]) => key.startsWith(`${splits[killedAt].id}:`) && count >= n).map(([key]) => Number(key.slice(key.lastIndexOf(':') + 1)));
      const repeated = batchesOf(2).sort((a, b) => a - b);
      expect([...seen].filter(([, n]) => n > 1)).to.have.length(repeated.length); // no other split's
      const firstBatch = Math.min(...batchesOf(1));
      expect(repeated).to.deep.equal(repeated.map((_, i) => firstBatch + i)); // a run from the split's first batch
      const crashRow = KILL_AT - (killedAt === 0 ? 1 : splits[killedAt].line - 1) + 1; // the crash row's place in its split
      expect(repeated.length).to.be.within(Math.ceil(crashRow / SERVICE_BATCH), Math.ceil(crashRow / SERVICE_BATCH) + 1);

      // The rate: exact on the grants, as PostgreSQL stamped them — no window of PER ms holds
      // more than CALLS; every call took one; and the limit was reached.
      const grants = await grantsOf('svc', CALLS);
      expect(grants.closestMs).to.be.at.least(PER);
      expect(grants.grants).to.be.at.least(service.requests.length);
      expect(grants.fullestMs).to.be.below(PER);
      // And as the service saw them arrive, allowing a lag L = 2 × PER from a grant to its
      // arrival (a worker process descheduled in between on two shared cores): arrivals in
      // any W = 5 s come from grants within W + L, at most CALLS per PER of them — 110, where
      // the limit alone allows 100 (a 1 s window, whose bound the lag would double, was seen
      // at 23 against 20). The grants above are the exact check; this one is the service's view.
      const L = 2 * PER;
      const W = 5000;
      expect(mostInWindow(service.arrivals, W)).to.be.at.most(CALLS * Math.ceil((W + L) / PER));
    } finally {
      await service.close();
    }
  });

  it('negative control: a plain sink that commits batch by batch writes the killed batches twice', async () => {
    const { exits, rows, distinct } = await load({ rows: 20_000, splits: 20, workers: 2, killAt: 10_600, exactlyOnce: false, table: `plain_${tag}` });
    expect(exits.filter((e) => e.signal === 'SIGKILL')).to.have.length(1);
    expect(distinct).to.equal(20_000);
    const duplicates = rows - distinct;
    expect(duplicates).to.be.greaterThan(0);
    expect(duplicates % 250).to.equal(0); // whole batches committed before the kill, written again by the redelivery
  });
});
