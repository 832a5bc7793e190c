/**
 * A paid-service stage on several workers: a shared rate limit in PostgreSQL, and
 * idempotency keys from the split and the batch, so a split re-run after a crash repeats
 * at most the calls that were in flight, with the same keys.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { callService, csv, distributed, postJson, postgres, tap, type QueueEngine } from '../../lib/index.js';
import { FakeService, mostInWindow } from '../helpers/fake-service.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { usePostgres } from '../helpers/postgres.js';
import { logGrants } from './helpers.js';

describe('distributed.job() with a service stage: shared rate limit and stable idempotency keys', function () {
  this.timeout(30_000);
  const engines: QueueEngine[] = [];
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
  });
  const db = usePostgres();
  let tmp: TempDir;
  let service: FakeService;
  let pool: pg.Pool;

  before(async () => {
    tmp = await tempDir('sluice-distributed-service-');
    service = await FakeService.start();
    pool = db.pool({ max: 8 });
  });
  after(async () => {
    await service.close();
    await tmp.remove();
  });

  it('each batch reaches the service at most twice (only the crashed split repeats), never above the shared limit', async () => {
    const ROWS = 2000;
    const file = await tmp.write('in.csv', 'id,name\n' + Array.from({ length: ROWS }, (_, i) => `${i + 1},n${i + 1}\n`).join(''));
    await db.query(`CREATE TABLE ${db.schema}.enriched (id text, name text)`);
    const engine = distributed.pgBoss(pool, { schema: db.schema, retryLimit: 3 });
    engines.push(engine);
    const CALLS = 8;
    const PER = 100;
    const grantsOf = await logGrants(db, pool, `${db.schema}.slots`);
    const job = distributed.job({
      engine,
      name: 'enrich',
      source: csv.split<string[]>(file),
      exactlyOnce: { pool, markers: `${db.schema}.done` },
      pipeline: (rows, { client, split, attempt }) => [
        rows,
        callService(postJson<string[], string[]>(service.url), {
          batchSize: 50,
          rate: distributed.sharedRate(pool, { name: 'svc', calls: CALLS, per: PER, table: `${db.schema}.slots` }),
          idempotencyKey: (_rows, batch) => `${split.id}:${batch}`,
        }),
        // The crash: split 2's first attempt dies after its third batch came back.
        tap((row: string[], { index }) => {
          if (split.index === 2 && attempt === 1 && index === 150) throw new Error('worker crashed');
        }),
        postgres.write(client!, { table: 'enriched' }),
      ],
    });
    await job.plan({ splits: 10 });
    const [a, b] = await Promise.all([job.work({ pollMs: 10 }), job.work({ pollMs: 10 })]);
    expect(a.failed + b.failed).to.equal(1);
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.enriched`);
    expect(rows[0]).to.deep.equal({ n: String(ROWS), d: String(ROWS) });

    const seen = new Map<string, number>();
    for (const r of service.requests) seen.set(r.key!, (seen.get(r.key!) ?? 0) + 1);
    const splits = await csv.split(file).plan(10);
    const repeated = [...seen].filter(([, n]) => n > 1);
    expect(Math.max(...seen.values())).to.equal(2);
    // Only batches of the crashed split repeat: those called before the crash (3), plus at
    // most the one in flight then.
    expect(repeated.every(([key]) => key.startsWith(`${splits[2].id}:`))).to.equal(true);
    expect(repeated.length).to.be.within(3, 4);
    // Every batch of every split was called: a split of r rows makes ⌈r / 50⌉ batches.
    const rowsIn = splits.map((sp, i) => (i + 1 < splits.length ? splits[i + 1].line : ROWS + 2) - sp.line - (i === 0 ? 1 : 0));
    expect(seen.size).to.equal(rowsIn.reduce((n, r) => n + Math.ceil(r / 50), 0));
    // The limit, exact on the grants as PostgreSQL stamped them: no window of PER ms holds
    // more than CALLS, and every call took one. And it binds: some 2 × PER ms held CALLS
    // (two workers in one process do not always fill a single window on a loaded machine).
    const grants = await grantsOf('svc', CALLS);
    expect(grants.closestMs).to.be.at.least(PER);
    expect(grants.grants).to.be.at.least(service.requests.length);
    expect(grants.fullestMs).to.be.below(2 * PER);
    // And as the service saw them arrive. Leeway 50 ms: the fake service shares this
    // process's event loop with both workers, so a request granted just before a long turn
    // — a chunk parsed, a batch encoded — is stamped late, and looks closer to the next one
    // than it was sent (25 ms was seen to be too little on a loaded machine).
    expect(mostInWindow(service.arrivals, PER - 50)).to.be.at.most(CALLS);
  });
});
