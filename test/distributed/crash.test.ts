/**
 * The proof on this machine, for each engine: 200,000 rows, 200 splits, 4 worker
 * processes; one worker SIGKILLs itself in the middle of a batch and the planner is
 * restarted while it enqueues. The table then holds every row exactly once and one
 * done-marker per split; a negative control with a plain (non-idempotent) sink shows the
 * duplicates the test would otherwise miss. A third test runs the same setup with a paid
 * service between the rows and the sink (a real HTTP fake service the worker processes
 * call, a rate limit they share in PostgreSQL, idempotency keys from split and batch), on
 * 10,000 rows in 20 splits to keep the rate-limited run short.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { csv, distributed, postgres, type QueueEngine } from '../../lib/index.js';
import { FakeService, mostInWindow } from '../helpers/fake-service.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { usePostgres, type TestDb } from '../helpers/postgres.js';
import { REDIS_URL, bullmqUnavailable, delegate, runWorker, sampleCsv } from './helpers.js';

interface EngineSpec {
  kind: 'pg-boss' | 'bullmq';
  /** The planner's engine. */
  make(db: TestDb, pool: pg.Pool): QueueEngine & { obliterate?(queue: string): Promise<void> };
  /** What the worker processes need to build the same engine. */
  env(db: TestDb): Record<string, string>;
}

const prefix = `sluice-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const specs: EngineSpec[] = [
  {
    kind: 'pg-boss',
    make: (db, pool) => distributed.pgBoss(pool, { schema: db.schema, expireInSeconds: 1, maintenanceIntervalSeconds: 1, retryLimit: 10 }),
    env: (db) => ({ ENGINE: 'pg-boss', PGBOSS_SCHEMA: db.schema }),
  },
  {
    kind: 'bullmq',
    make: () => distributed.bullmq(REDIS_URL, { prefix, lockDuration: 1000, stalledInterval: 500, retryLimit: 10 }),
    env: () => ({ ENGINE: 'bullmq', PREFIX: prefix, REDIS_URL }),
  },
];

const bullmqMissing = await bullmqUnavailable();
// The one suite allowed not to run: BullMQ without a Redis (or its client package) here.
if (bullmqMissing) console.log(`  BullMQ crash suite NOT RUN: ${bullmqMissing}`);

for (const spec of specs.filter((s) => s.kind === 'pg-boss' || !bullmqMissing)) describe(`distributed.job() on ${spec.kind}: a SIGKILLed worker and a restarted planner lose nothing`, function () {
  this.timeout(60_000);
  const engines: QueueEngine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });
  const db = usePostgres();
  let tmp: TempDir;
  let pool: pg.Pool;

  before(async () => {
    tmp = await tempDir('sluice-crash-test-');
    pool = db.pool({ max: 3 });
  });
  after(() => tmp.remove());

  /** Plans in two goes (the first stopped after `stopAfter` jobs), while `workers` processes work (through `service` when given). */
  async function load(options: { rows: number; splits: number; workers: number; killAt: number; exactlyOnce: boolean; table: string; service?: Record<string, string> }) {
    const file = await sampleCsv(tmp.file(`${options.table}.csv`), options.rows);
    await db.query(`CREATE TABLE ${db.schema}.${options.table} (id int, plate text, state text, fine int)`);
    const engine = spec.make(db, pool);
    engines.push(engine);
    const queue = `crash-${spec.kind}-${options.table}`;
    const planner = (signal?: AbortSignal) =>
      distributed
        .job({ engine, name: queue, source: csv.split(file), pipeline: (rows) => [rows, postgres.write(pool, { table: options.table })] })
        .plan({ splits: options.splits, signal });
    await engine.open(queue);
    const env = {
      ...spec.env(db), DATABASE_URL: db.url, QUEUE: queue, FILE: file, TABLE: options.table,
      MARKERS: `${db.schema}.done`, EXACTLY_ONCE: options.exactlyOnce ? '1' : '0', BATCH: '250', KILL_AT: String(options.killAt),
      ...options.service,
    };
    const workers = Array.from({ length: options.workers }, () => runWorker(env));
    // The planner dies a third of the way through (each job is added atomically, so a stop
    // between two adds is what a crash leaves), and is started again.
    const stop = new AbortController();
    let adds = 0;
    const stopping = delegate(engine, {
      add: async (...args) => {
        if (++adds === Math.floor(options.splits / 3)) stop.abort();
        return engine.add(...args);
      },
    });
    const first = await distributed.job({ engine: stopping, name: queue, source: csv.split(file), pipeline: (rows) => [rows] })
      .plan({ splits: options.splits, signal: stop.signal }).then(() => null, (e: Error) => e);
    expect(first?.name).to.equal('AbortError');
    const second = await planner();
    expect(second.splits).to.equal(options.splits);
    expect(second.added).to.equal(options.splits - Math.floor(options.splits / 3));
    const exits = await Promise.all(workers);
    expect(await engine.unfinished(queue)).to.equal(0);
    await engine.obliterate?.(queue);
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.${options.table}`);
    return { exits, rows: Number(rows[0].n), distinct: Number(rows[0].d), queue };
  }

  it('200,000 rows, 200 splits, 4 workers, one SIGKILLed mid-batch: every row exactly once, 200 done-markers', async () => {
    const { exits, rows, distinct, queue } = await load({ rows: 200_000, splits: 200, workers: 4, killAt: 100_600, exactlyOnce: true, table: `violations_${spec.kind.replace('-', '')}` });
    const killed = exits.filter((e) => e.signal === 'SIGKILL');
    const finished = exits.filter((e) => e.code === 0);
    expect(killed, exits.map((e) => e.stderr).join('\n')).to.have.length(1);
    expect(finished).to.have.length(3);
    expect({ rows, distinct }).to.deep.equal({ rows: 200_000, distinct: 200_000 });
    const markers = await db.query<{ n: string; rows: string }>(`SELECT count(*) AS n, sum(rows) AS rows FROM ${db.schema}.done WHERE job = $1`, [queue]);
    expect(markers.rows[0]).to.deep.equal({ n: '200', rows: '200000' });
    // The killed worker's split came back (attempt 2) and was run whole by a survivor.
    const redelivered = finished.flatMap((e) => e.summary!.redelivered);
    expect(redelivered.filter((r) => !r.skipped).map((r) => r.attempt)).to.deep.equal([2]);
    expect(finished.reduce((n, e) => n + e.summary!.failed, 0)).to.equal(0);
    if (spec.kind === 'pg-boss') {
      const jobs = await db.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM ${db.schema}.job WHERE name = $1 GROUP BY state`, [queue]);
      expect(jobs.rows).to.deep.equal([{ state: 'completed', n: '200' }]);
    }
  });

  it('negative control: a plain sink that commits batch by batch writes the killed batch twice', async () => {
    const { exits, rows, distinct } = await load({ rows: 20_000, splits: 20, workers: 2, killAt: 10_600, exactlyOnce: false, table: `plain_${spec.kind.replace('-', '')}` });
    expect(exits.filter((e) => e.signal === 'SIGKILL')).to.have.length(1);
    expect(distinct).to.equal(20_000);
    const duplicates = rows - distinct;
    expect(duplicates).to.be.greaterThan(0);
    expect(duplicates % 250).to.equal(0); // whole batches committed before the kill, written again by the redelivery
  });

  it('with a paid service: each batch called at most 1 + 1 times (the killed worker had one split in flight), no window above the shared limit', async () => {
    const service = await FakeService.start();
    try {
      const CALLS = 5; // 50 calls/s: a quarter of what four unlimited workers send here (~200-250/s)
      const PER = 100;
      const SERVICE_BATCH = 50;
      const env = {
        SERVICE_URL: service.url, SERVICE_BATCH: String(SERVICE_BATCH), RATE_CALLS: String(CALLS), RATE_PER: String(PER), RATE_TABLE: `${db.schema}.slots_${spec.kind.replace('-', '')}`,
        EXPIRE: '5', // a rate-limited split must not outlive pg-boss's expiry (it has no heartbeat) and be redelivered
      };
      const { exits, rows, distinct } = await load({ rows: 10_000, splits: 20, workers: 4, killAt: 5_300, exactlyOnce: true, table: `paid_${spec.kind.replace('-', '')}`, service: env });
      const finished = exits.filter((e) => e.code === 0);
      expect(exits.filter((e) => e.signal === 'SIGKILL'), exits.map((e) => e.stderr).join('\n')).to.have.length(1);
      expect({ rows, distinct }).to.deep.equal({ rows: 10_000, distinct: 10_000 });
      const killedSplit = finished.flatMap((e) => e.summary!.redelivered).filter((r) => !r.skipped);
      expect(killedSplit.map((r) => r.attempt)).to.deep.equal([2]);

      const seen = new Map<string, number>();
      for (const r of service.requests) seen.set(r.key!, (seen.get(r.key!) ?? 0) + 1);
      // Every batch was called: a split of r rows makes ⌈r / 50⌉ batches (count r from the plan).
      const splits = await csv.split(tmp.file(`paid_${spec.kind.replace('-', '')}.csv`)).plan(20);
      const rowsIn = splits.map((sp, i) => (i + 1 < splits.length ? splits[i + 1].line : 10_000 + 2) - sp.line - (i === 0 ? 1 : 0));
      expect(seen.size).to.equal(rowsIn.reduce((n, r) => n + Math.ceil(r / SERVICE_BATCH), 0));
      // The killed worker ran one split at a time, so a batch is seen at most 1 + 1 times, and
      // only batches of that split repeat: those it called before the kill (its first 300
      // rows reached the crash point, a batch of 250 had reached PostgreSQL).
      expect(Math.max(...seen.values())).to.equal(2);
      const repeated = [...seen].filter(([, n]) => n > 1).map(([key]) => key.slice(0, key.lastIndexOf(':')));
      expect(new Set(repeated)).to.deep.equal(new Set([killedSplit[0].split]));
      expect(repeated.length).to.be.within(Math.ceil(250 / SERVICE_BATCH), rowsIn[splits.findIndex((sp) => sp.id === killedSplit[0].split)] / SERVICE_BATCH);
      // No window above the limit, by arrival time at the service, allowing a lag L = PER
      // between a grant (PostgreSQL's clock) and its arrival: four worker processes on two
      // shared cores get descheduled between the grant and the send (a 50 ms leeway still
      // failed now and then), so a late request lands beside later grants. Arrivals in any
      // window of W ms then come from grants within W + L ms: at most CALLS per PER.
      const L = PER;
      expect(mostInWindow(service.arrivals, 1000)).to.be.at.most(CALLS * Math.ceil((1000 + L) / PER));
      // And over the whole run: n grants take at least (n / CALLS - 1) × PER ms.
      const span = Math.max(...service.arrivals);
      expect(span).to.be.at.least((service.requests.length / CALLS - 1) * PER - L);
      expect(mostInWindow(service.arrivals, PER * 2)).to.be.at.least(CALLS); // the limit is reached
    } finally {
      await service.close();
    }
  });
});
