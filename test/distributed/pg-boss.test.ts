import { expect } from 'chai';
import type pg from 'pg';
import { csv, distributed, postgres, tap, type QueueEngine } from '../../lib/index.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { usePostgres } from '../helpers/postgres.js';
import { deferred } from '../helpers/streams.js';
import { delegate } from './helpers.js';

const ROWS = 2000;

const PASSWORD = 'pa$$-w0rd#`@secret';
const API_KEY = 'sk-live-0123456789abcdef';

describe('distributed.job() on pg-boss', () => {
  const engines: QueueEngine[] = [];
  // Before usePostgres()'s leak check: an engine is stopped first.
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });
  const db = usePostgres();
  let tmp: TempDir;
  let file: string;
  let pool: pg.Pool;
  let queueNumber = 0;

  before(async () => {
    tmp = await tempDir('sluice-pgboss-test-');
    file = await tmp.write('in.csv', 'id,name\n' + Array.from({ length: ROWS }, (_, i) => `${i + 1},n${i + 1}\n`).join(''));
    // The test server trusts local connections, so a password is accepted and ignored: enough
    // to check that it never reaches the queue.
    pool = db.pool({ max: 6, password: PASSWORD });
  });
  after(() => tmp.remove());

  function engine(options: Parameters<typeof distributed.pgBoss>[1] = {}) {
    const e = distributed.pgBoss(pool, { schema: db.schema, ...options });
    engines.push(e);
    return e;
  }

  async function table(): Promise<string> {
    const name = `load${++queueNumber}`;
    await db.query(`CREATE TABLE ${db.schema}.${name} (id int, name text)`);
    return name;
  }

  function loadJob(e: QueueEngine, target: string, extra: Partial<Parameters<typeof distributed.job>[0]> = {}) {
    return distributed.job({
      engine: e,
      name: `q-${target}`,
      source: csv.split<string[]>(file),
      exactlyOnce: { pool, markers: `${db.schema}.done` },
      pipeline: (rows, { client }) => [rows, postgres.write(client!, { table: target })],
      ...extra,
    });
  }

  async function counts(target: string) {
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.${target}`);
    const markers = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.done WHERE job = $1`, [`q-${target}`]);
    return { rows: Number(rows[0].n), distinct: Number(rows[0].d), markers: Number(markers.rows[0].n) };
  }

  it('a planner enqueues one job per split; restarted midway, it adds only the missing ones', async () => {
    const e = engine();
    const target = await table();
    const stop = new AbortController();
    let adds = 0;
    const stopping = delegate(e, { add: async (...args) => ((++adds === 7 && stop.abort()), e.add(...args)) });
    const first = await loadJob(stopping, target).plan({ splits: 20, signal: stop.signal }).then(() => null, (err: Error) => err);
    expect(first?.name).to.equal('AbortError');
    expect(await e.planned(`q-${target}`)).to.equal(null);
    const again = await loadJob(e, target).plan({ splits: 20 });
    expect(again).to.deep.equal({ splits: 20, added: 13, heldBack: 0 });
    const third = await loadJob(e, target).plan({ splits: 20 });
    expect(third.added).to.equal(0);
    expect(await e.waiting(`q-${target}`)).to.equal(20);
    expect(await e.planned(`q-${target}`)).to.equal(20);
  });

  it('workers load every row exactly once, with a done-marker per split, and complete every job', async () => {
    const e = engine();
    const target = await table();
    const planned = await loadJob(e, target).plan({ splits: 12 });
    const [a, b] = await Promise.all([loadJob(e, target).work({ concurrency: 2, pollMs: 20 }), loadJob(e, target).work({ pollMs: 20 })]);
    expect(a.rows + b.rows).to.equal(ROWS);
    expect(a.splits.length + b.splits.length).to.equal(planned.splits);
    expect(a.failed + b.failed).to.equal(0);
    expect(await counts(target)).to.deep.equal({ rows: ROWS, distinct: ROWS, markers: 12 });
    const { rows } = await db.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM ${db.schema}.job WHERE name = $1 GROUP BY state`, [`q-${target}`]);
    expect(rows).to.deep.equal([{ state: 'completed', n: '12' }]);
  });

  it('the planner holds back while more than maxWaiting jobs wait', async () => {
    const e = engine();
    const target = await table();
    const seen: number[] = [];
    const watching = delegate(e, { add: async (...args) => (seen.push(await e.waiting(args[0])), e.add(...args)) });
    const [plan] = await Promise.all([loadJob(watching, target).plan({ splits: 15, maxWaiting: 3, pollMs: 20 }), loadJob(e, target).work({ pollMs: 20 })]);
    expect(plan.heldBack).to.be.greaterThan(0);
    expect(Math.max(...seen)).to.equal(3); // the bound is reached, never passed
    expect(await counts(target)).to.deep.equal({ rows: ROWS, distinct: ROWS, markers: 15 });
  });

  it('a split running past expireInSeconds keeps its job: its heartbeat moves the expiry on', async function () {
    this.timeout(20_000);
    const e = engine({ expireInSeconds: 1, maintenanceIntervalSeconds: 1 });
    const target = await table();
    await loadJob(e, target).plan({ splits: 1 });
    const attempts: number[] = [];
    const beats: string[] = [];
    const job = loadJob(e, target, {
      pipeline: (rows, { client, attempt }) => {
        attempts.push(attempt);
        return [rows, tap(async (row: string[]) => {
          if (row[0] !== '1000') return;
          // Held 3 s (the time is the point): without beats, maintenance (every 1 s) expires
          // the job after 1 s and a second worker is handed the split.
          const held = Date.now();
          while (Date.now() - held < 3000) {
            const { rows: job } = await db.query<{ started: string }>(`SELECT started_on::text AS started FROM ${db.schema}.job WHERE name = $1`, [`q-${target}`]);
            if (job[0] && beats[beats.length - 1] !== job[0].started) beats.push(job[0].started);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }), postgres.write(client!, { table: target, batchSize: 100 })];
      },
    });
    const [a, b] = await Promise.all([job.work({ pollMs: 20 }), job.work({ pollMs: 20 })]);
    expect(attempts).to.deep.equal([1]);
    expect(beats.length).to.be.at.least(4); // pg-boss saw the job's start move on (a beat every ~333 ms)
    expect([...a.splits, ...b.splits].map((x) => [x.attempt, x.skipped])).to.deep.equal([[1, false]]);
    const { rows } = await db.query<{ state: string; retry_count: number }>(`SELECT state, retry_count FROM ${db.schema}.job WHERE name = $1`, [`q-${target}`]);
    expect(rows).to.deep.equal([{ state: 'completed', retry_count: 0 }]);
    expect(await counts(target)).to.deep.equal({ rows: ROWS, distinct: ROWS, markers: 1 });
  });

  it('a zombie (its beats stopped reaching the queue, the job redelivered while it still runs) does not double-write', async function () {
    this.timeout(20_000);
    const e = engine({ expireInSeconds: 1, maintenanceIntervalSeconds: 1 });
    // The zombie's heartbeat never reaches pg-boss (a partition, a stalled event loop).
    const silent = delegate(e, { take: async (queue) => { const d = await e.take(queue); return d && { ...d, heartbeatMs: 0 }; } });
    const target = await table();
    await loadJob(e, target).plan({ splits: 1 });
    const release = deferred();
    const inSplit = deferred();
    const attempts: number[] = [];
    const pipeline: Parameters<typeof distributed.job>[0]['pipeline'] = (rows, { client, attempt }) => {
      attempts.push(attempt);
      return [rows, tap(async (row: string[]) => {
        if (attempt === 1 && row[0] === '1000') {
          inSplit.resolve();
          await release.promise;
        }
      }), postgres.write(client!, { table: target, batchSize: 100 })];
    };
    const zombie = loadJob(silent, target, { pipeline }).work({ pollMs: 20 });
    await inSplit.promise;
    // A second worker gets the split once pg-boss has expired the first delivery, and waits
    // on the done-marker the zombie holds: seen as a session waiting for a lock.
    const second = loadJob(e, target, { pipeline }).work({ pollMs: 50 });
    const blocked = async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO %done%'`,
      );
      return rows[0].n === '1';
    };
    while (!(await blocked())) await new Promise((resolve) => setTimeout(resolve, 50));
    release.resolve();
    const [z, s] = await Promise.all([zombie, second]);
    expect(attempts).to.deep.equal([1]); // the second delivery found the marker and built no pipeline
    expect(z.splits.map((x) => [x.attempt, x.skipped, x.written])).to.deep.equal([[1, false, ROWS]]);
    expect(s.splits.map((x) => [x.attempt, x.skipped, x.written])).to.deep.equal([[2, true, 0]]);
    expect(await counts(target)).to.deep.equal({ rows: ROWS, distinct: ROWS, markers: 1 });
  });

  it('TESTPLAN G37: no job data, name, result or error holds the connection password or an API key', async () => {
    process.env.SLUICE_TEST_API_KEY = API_KEY;
    try {
      const e = engine({ retryLimit: 0 });
      const target = await table();
      const job = loadJob(e, target, {
        pipeline: (rows, { client, split }) => [
          rows,
          tap(() => void process.env.SLUICE_TEST_API_KEY), // a worker reads its key from its own environment
          postgres.write(client!, { table: split.index === 1 ? 'no_such_table' : target }),
        ],
      });
      await job.plan({ splits: 3 });
      const summary = await job.work({ pollMs: 20 });
      expect(summary.failed).to.equal(1);
      const { rows } = await db.query<{ name: string; data: unknown; output: { message?: string } | null; state: string }>(
        `SELECT name, data, output, state FROM ${db.schema}.job WHERE name LIKE $1 || '%' ORDER BY state`,
        [`q-${target}`],
      );
      expect(rows.map((r) => r.state)).to.include.members(['completed', 'failed']);
      expect(rows.find((r) => r.state === 'failed')!.output!.message).to.match(/^PostgresError: .*no_such_table/);
      const everything = JSON.stringify(rows);
      expect(everything).to.not.contain(PASSWORD);
      expect(everything).to.not.contain(API_KEY);
      expect(everything).to.not.contain('postgres://');
    } finally {
      delete process.env.SLUICE_TEST_API_KEY;
    }
  });

  it('invalid options throw naming the option', () => {
    const e = engine();
    const base = { engine: e, name: 'q', source: csv.split(file), pipeline: () => [] };
    expect(() => distributed.pgBoss({} as never)).to.throw(TypeError, 'distributed.pgBoss(): expected `pool` to be a pg.Pool, got an object');
    expect(() => distributed.pgBoss(pool, { schema: 'a;b' })).to.throw(TypeError, 'distributed.pgBoss(): expected `schema` to be a plain schema name (letters, digits, _), got `a;b` (string)');
    expect(() => distributed.pgBoss(pool, { expireInSeconds: 0 })).to.throw(TypeError, 'distributed.pgBoss(): expected `expireInSeconds` to be an integer from 1 and up, got `0` (number)');
    expect(() => distributed.job({ ...base, engine: {} as never })).to.throw(TypeError, 'distributed.job(): expected `engine` to be a queue engine (distributed.pgBoss, distributed.bullmq), got an object');
    expect(() => distributed.job({ ...base, name: 'a b' })).to.throw(TypeError, 'distributed.job(): expected `name` to be a queue name of letters, digits, - and _, got `a b` (string)');
    expect(() => distributed.job({ ...base, source: {} as never })).to.throw(TypeError, 'distributed.job(): expected `source` to be a split source (csv.split, postgres.split), got an object');
  });

  it('a bad work() or plan() option is refused before the engine is opened or the done-markers made: nothing is left open', async () => {
    const opened: string[] = [];
    const e = engine();
    const spy = delegate(e, { open: (name) => (opened.push(name), e.open(name)) });
    const j = loadJob(spy, 'never-run', { exactlyOnce: { pool, markers: `${db.schema}.done_unmade` } });
    const reason = (p: Promise<unknown>) => p.then(() => null, (error: unknown) => error);
    expect(await reason(j.work({ concurrency: 0 }))).to.be.instanceOf(TypeError)
      .with.property('message', 'job.work(): expected `concurrency` to be an integer from 1 and up, got `0` (number)');
    expect(await reason(j.work({ until: 'empty' as never }))).to.be.instanceOf(TypeError)
      .with.property('message', "job.work(): expected `until` to be one of 'drained', 'aborted', got `empty` (string)");
    expect(await reason(j.plan({ splits: 2, pollMs: 0 }))).to.be.instanceOf(TypeError)
      .with.property('message', 'job.plan(): expected `pollMs` to be an integer from 1 and up, got `0` (number)');
    expect(opened).to.deep.equal([]);
    const { rows } = await db.query<{ t: string | null }>(`SELECT to_regclass('${db.schema}.done_unmade')::text AS t`);
    expect(rows[0].t).to.equal(null);
  });
});
