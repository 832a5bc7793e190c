import { expect } from 'chai';
import fc from 'fast-check';
import type pg from 'pg';
import { PostgresError, originOf, postgres, run, type PostgresSplit } from '../../lib/index.js';
import { collector } from '../helpers/csv.js';
import { usePostgres } from '../helpers/postgres.js';

describe('postgres.split()', () => {
  const db = usePostgres();
  let pool: pg.Pool;

  before(async () => {
    pool = db.pool({ max: 2 });
  });

  async function rowsOf(splits: PostgresSplit[], table: string, key: string): Promise<unknown[]> {
    const source = postgres.split(pool, { table, key });
    const all: unknown[] = [];
    for (const split of splits) {
      const sink = collector();
      await run(source.open(split), sink);
      all.push(...sink.rows);
    }
    return all;
  }

  describe('behaviour', () => {
    before(async () => {
      await db.query(`CREATE TABLE ${db.schema}.ints AS SELECT i AS id, 'n' || i AS name FROM generate_series(1, 100) i`);
      await db.query(`CREATE TABLE ${db.schema}.words (w text PRIMARY KEY, n int)`);
      await db.query(`INSERT INTO ${db.schema}.words SELECT md5(i::text), i FROM generate_series(1, 60) i`);
    });

    it('integer keys: even ranges from min/max, k >= lo AND k < hi, the first and last open', async () => {
      const splits = await postgres.split(pool, { table: 'ints', key: 'id' }).plan(4);
      expect(splits.map(({ lo, hi, index, count }) => ({ lo, hi, index, count }))).to.deep.equal([
        { lo: null, hi: '26', index: 0, count: 4 },
        { lo: '26', hi: '51', index: 1, count: 4 },
        { lo: '51', hi: '76', index: 2, count: 4 },
        { lo: '76', hi: null, index: 3, count: 4 },
      ]);
      expect(splits[1].id).to.equal('postgres:ints:id[26,51)');
      const rows = (await rowsOf(splits, 'ints', 'id')) as { id: number }[];
      expect(rows.map((r) => r.id)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it('text keys: percentiles; every row once, its origin the table and key', async () => {
      const splits = await postgres.split(pool, { table: 'words', key: 'w' }).plan(5);
      expect(splits).to.have.length(5);
      const rows = (await rowsOf(splits, 'words', 'w')) as { w: string; n: number }[];
      expect(rows.map((r) => r.n).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(originOf(rows[0])).to.deep.equal({ source: `words (w = ${rows[0].w})`, line: 1 });
    });

    it('an empty table plans one split that reads nothing', async () => {
      await db.query(`CREATE TABLE ${db.schema}.empty (id int)`);
      const splits = await postgres.split(pool, { table: 'empty', key: 'id' }).plan(3);
      expect(splits).to.have.length(1);
      expect(await rowsOf(splits, 'empty', 'id')).to.deep.equal([]);
    });

    it('refuses a key with NULLs, naming how many', async () => {
      await db.query(`CREATE TABLE ${db.schema}.nulls AS SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE i END AS id FROM generate_series(1, 30) i`);
      const error = await postgres.split(pool, { table: 'nulls', key: 'id' }).plan(3).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(PostgresError);
      expect((error as Error).message).to.equal('postgres.split(nulls): 3 row(s) have a NULL id, which no key range holds; split on a NOT NULL key');
    });

    it('a missing table fails with a PostgresError naming the stage', async () => {
      const error = await postgres.split(pool, { table: 'nope', key: 'id' }).plan(3).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(PostgresError);
      expect((error as Error).message).to.match(/^postgres\.split\(nope\): relation "nope" does not exist/);
    });
  });

  describe('options', () => {
    it('invalid values throw naming the option', async () => {
      expect(() => postgres.split(pool, { table: 'ints', key: '' })).to.throw(TypeError, 'postgres.split(): expected `key` to be a non-empty name, got `` (string)');
      expect(() => postgres.split(pool, { table: 'ints', key: 'id', by: 'hash' as never })).to.throw(TypeError, "postgres.split(): expected `by` to be one of 'range', 'percentile', got `hash` (string)");
      expect(() => postgres.split(pool, { table: 'ints', key: 'id', columns: [] })).to.throw(TypeError, 'postgres.split(): expected `columns` to be a non-empty array of column names, got an array of length 0');
      const error = await postgres.split(pool, { table: 'words', key: 'w', by: 'range' }).plan(3).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError)
        .with.property('message', "postgres.split().plan(): expected `by` to be 'percentile' for a key of type text ('range' needs an integer key), got `range` (string)");
      expect(() => postgres.split(pool, { table: 'ints', key: 'id' }).open({ kind: 'csv' } as never)).to.throw(TypeError, 'postgres.split().open(): expected `split` to be a split of ints on id planned by postgres.split, got an object');
    });
  });

  describe('property: the union of all ranges is the whole table, exactly once', () => {
    it('for random keys (duplicates, negatives, skew) and random n, by range and by percentile', async () => {
      let case_ = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 40 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom('range', 'percentile'), async (keys, n, by) => {
          const table = `p${case_++}`;
          await db.query(`CREATE TABLE ${db.schema}.${table} (k bigint NOT NULL, i int)`);
          if (keys.length) await db.query(`INSERT INTO ${db.schema}.${table} SELECT * FROM unnest($1::bigint[], $2::int[])`, [keys, keys.map((_, i) => i)]);
          const source = postgres.split(pool, { table, key: 'k', by: by as 'range' | 'percentile' });
          const splits = await source.plan(n);
          expect(splits.length).to.be.within(1, n);
          const rows = (await rowsOf(splits, table, 'k')) as { i: number }[];
          expect(rows.map((r) => r.i).sort((a, b) => a - b)).to.deep.equal(keys.map((_, i) => i));
        }),
        { numRuns: 40 },
      );
    });
  });
});
