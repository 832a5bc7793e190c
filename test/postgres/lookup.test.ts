import { expect } from 'chai';
import type pg from 'pg';
import { PostgresError, csv, lookup, postgres, run } from '../../lib/index.js';
import { usePostgres } from '../helpers/postgres.js';
import { collect, rejectionOf } from '../helpers/streams.js';

describe('postgres.lookup()', () => {
  const db = usePostgres();
  let pool: pg.Pool;
  /** Every call logs its keys with its transaction id: distinct ids are queries, rows are keys asked. */
  const sql = (sleep = 0) => `
    WITH asked AS (INSERT INTO asked (key) SELECT unnest($1::text[]) RETURNING 1)
    SELECT code, fine, (SELECT count(*) FROM asked) AS n
      FROM codes CROSS JOIN (SELECT pg_sleep(${sleep})) AS slow WHERE code = ANY($1::int[])`;
  const queries = async () => (await db.query<{ q: string; k: string }>(`SELECT count(DISTINCT tx)::text AS q, count(*)::text AS k FROM ${db.schema}.asked`)).rows[0]!;

  before(async () => {
    pool = db.pool({ max: 1 });
    await db.query(`CREATE TABLE ${db.schema}.codes (code int PRIMARY KEY, fine int NOT NULL)`);
    await db.query(`INSERT INTO ${db.schema}.codes SELECT c, c * 5 FROM generate_series(1, 99) AS c`);
    await db.query(`CREATE TABLE ${db.schema}.asked (key text, tx bigint DEFAULT txid_current())`);
  });
  beforeEach(() => db.query(`TRUNCATE ${db.schema}.asked`));

  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, code: String((i % 120) + 1) }));
  const merge = (row: { id: number; code: string } | null, value: { fine: number } | null) => ({ id: row!.id, fine: value?.fine ?? null });

  it('one query per batch of distinct keys (= ANY($1)), cached keys never queried again, missing keys null', async () => {
    const stage = lookup(postgres.lookup(pool, sql()), { on: 'code', batchSize: 50, merge });
    const sink = collect<{ id: number; fine: number | null }>();
    await run(rows(600), stage, sink);
    expect(sink.rows).to.have.length(600);
    expect(sink.rows.slice(0, 3)).to.deep.equal([{ id: 1, fine: 5 }, { id: 2, fine: 10 }, { id: 3, fine: 15 }]);
    expect(sink.rows[99 + 1 - 1]).to.deep.equal({ id: 100, fine: null }); // code 100 is not in the table
    // 120 distinct codes in batches of 50 rows: the first three batches ask 50, 50, 20 keys; the rest are cached.
    expect(await queries()).to.deep.equal({ q: '3', k: '120' });
    expect(stage.lookupMetrics).to.include({ calls: 3, keysQueried: 120 });
  });

  it('a slow server and a pool of 1 with several batches in flight: no deadlock, each key asked once', async () => {
    const stage = lookup(postgres.lookup(pool, sql(0.2)), { on: 'code', batchSize: 40, concurrency: 3, merge });
    const sink = collect();
    await run(rows(480), stage, sink);
    expect(sink.rows).to.have.length(480);
    expect((await queries()).k).to.equal('120');
    expect(stage.serviceMetrics?.maxInFlight).to.be.above(1);
  });

  it('a query slower than timeoutMs is cancelled (its connection discarded) and retried; the pool of 1 is not stuck', async () => {
    let first = true;
    const slowFirst = postgres.lookup<{ fine: number }>(pool, sql(0));
    const fn: typeof slowFirst = async (keys, context) => {
      if (first) {
        first = false;
        return postgres.lookup<{ fine: number }>(pool, sql(30))(keys, context);
      }
      return slowFirst(keys, context);
    };
    const stage = lookup(fn, { on: 'code', batchSize: 100, timeoutMs: 1000, retries: { attempts: 2, baseMs: 1 }, merge });
    const sink = collect();
    await run(rows(10), stage, sink);
    expect(sink.rows).to.have.length(10);
    expect(stage.serviceMetrics).to.include({ timeouts: 1, retries: 1 });
  });

  it('a failing query fails the pipeline with a PostgresError naming the lookup; a CSV source joins by text keys', async () => {
    const error = await rejectionOf(run(rows(3), lookup(postgres.lookup(pool, 'SELECT code FROM no_such_table WHERE code = ANY($1::int[])'), { on: 'code', retries: false }), collect()));
    expect(error.message).to.include('postgres.lookup(SELECT code FROM no_such_table WHERE co…): relation "no_such_table" does not exist');
    expect((error as { cause?: unknown }).cause).to.be.instanceOf(PostgresError);
    expect(() => postgres.lookup(pool, '')).to.throw(TypeError, 'postgres.lookup(): expected `sql` to be a query with $1 for the keys, got `` (string)');
    const text = csv.parse({ rows: 'objects' });
    const sink = collect();
    const done = run(text, lookup(postgres.lookup(pool, 'SELECT code, fine FROM codes WHERE code = ANY($1::int[])'), { on: 'code', merge: (row, value) => [row!.n, value?.fine ?? null] }), sink);
    text.end('code,n\n7,1\n700,2\n');
    expect(await done).to.include({ read: 2, written: 2 });
    expect(sink.rows).to.deep.equal([['1', 35], ['2', null]]);
  });
});
