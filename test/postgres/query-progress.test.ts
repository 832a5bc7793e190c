import { expect } from 'chai';
import { Writable } from 'node:stream';
import pg from 'pg';
import { postgres, run, type Progress } from '../../lib/index.js';
import { usePostgres } from '../helpers/postgres.js';

/**
 * Issue 12 §9: `run(postgres.query(…), …, { progress })` reports the planner's row estimate
 * (one EXPLAIN before the cursor opens, only when progress is asked for) and an ETA from it.
 */
describe('postgres.query under run() progress: the planner row estimate', () => {
  const db = usePostgres();
  let pool: pg.Pool;
  /** Statements sent by the pool's clients, in order. */
  const statements: string[] = [];

  before(async () => {
    pool = db.pool({ max: 2 });
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string };
        statements.push(typeof first === 'string' ? first : first?.text ?? '');
        return query(...args);
      };
    });
    await db.query(`CREATE TABLE ${db.schema}.estimated AS SELECT g AS n FROM generate_series(1, 20000) g; ANALYZE ${db.schema}.estimated`);
  });
  beforeEach(() => (statements.length = 0));

  /** A sink that takes its first row only once a report with rows read has come (so there is one mid-run). */
  function sinkAfterReport(): { sink: Writable; progress: (p: Progress) => void; seen: Progress[] } {
    const seen: Progress[] = [];
    let reported!: () => void;
    const first = new Promise<void>((resolve) => (reported = resolve));
    const sink = new Writable({ objectMode: true, write: (_row, _e, cb) => void first.then(() => cb()) });
    return { sink, seen, progress: (p) => {
      seen.push(p);
      if (p.read > 0) reported();
    } };
  }

  it('on a pool: every report after the first fetch carries the estimate, with an ETA; the last has the real count', async () => {
    const sql = 'SELECT n FROM estimated WHERE n > $1';
    // What the planner says, asked directly (for n > 5000 of 1..20000: near 15,000, not exactly).
    const plan = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, [5000]);
    const estimate = plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
    statements.length = 0;
    expect(estimate).to.be.within(14_000, 16_000);
    const { sink, seen, progress } = sinkAfterReport();
    const summary = await run(postgres.query(pool, sql, [5000], { batchSize: 1000 }), sink, { progress, progressMs: 0 });
    expect(summary.read).to.equal(15_000);
    const underway = seen.filter((p) => !p.done && p.read > 0);
    expect(underway.length).to.be.at.least(1);
    expect(underway.every((p) => p.rowsEstimate === estimate && typeof p.etaMs === 'number')).to.equal(true);
    expect(seen[seen.length - 1]).to.include({ read: 15_000, rowsEstimate: estimate, etaMs: 0, done: true });
    expect(statements.filter((s) => s.startsWith('EXPLAIN'))).to.deep.equal(['EXPLAIN (FORMAT JSON) SELECT n FROM estimated WHERE n > $1']);
  });

  it('without progress nothing is explained', async () => {
    const summary = await run(postgres.query(pool, 'SELECT n FROM estimated'), new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }));
    expect(summary.read).to.equal(20_000);
    expect(statements.filter((s) => s.startsWith('EXPLAIN'))).to.deep.equal([]);
  });

  it("a statement the planner cannot explain (SHOW) runs as before, without an estimate", async () => {
    const { sink, seen, progress } = sinkAfterReport();
    const summary = await run(postgres.query(pool, 'SHOW server_version'), sink, { progress, progressMs: 0 });
    expect(summary.read).to.equal(1);
    expect(seen.every((p) => !('rowsEstimate' in p))).to.equal(true);
  });

  it("on the caller's own client (perhaps in a transaction): no EXPLAIN, the transaction stays usable", async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      statements.length = 0;
      const { sink, seen, progress } = sinkAfterReport();
      const summary = await run(postgres.query(client, 'SELECT n FROM estimated'), sink, { progress, progressMs: 0 });
      expect(summary.read).to.equal(20_000);
      expect(seen.every((p) => !('rowsEstimate' in p))).to.equal(true);
      expect(statements.filter((s) => s.startsWith('EXPLAIN'))).to.deep.equal([]);
      expect((await client.query<{ n: string }>('SELECT count(*) AS n FROM estimated')).rows[0].n).to.equal('20000');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
});
