import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { AbortError, csv, postgres, PostgresWriteError, run, type Reject } from '../../lib/index.js';
import { copyLine, toPgText } from '../../lib/postgres/text.js';
import { rejection } from '../helpers/csv.js';
import { APP, quoteIdent, usePostgres } from '../helpers/postgres.js';
import { turn } from '../helpers/streams.js';

const MODES = ['copy', 'insert', 'upsert'] as const;

describe('postgres.write()', function () {
  this.timeout(30_000);
  const db = usePostgres();
  let pool: pg.Pool;
  let n = 0;
  /** A fresh table name for each test. */
  const fresh = () => `t${++n}`;
  const count = async (table: string) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.${quoteIdent(table)}`)).rows[0].n);

  before(() => {
    pool = db.pool({ max: 2 });
  });

  describe('COPY text format (pure)', () => {
    it('escapes backslash, tab, newline and carriage return; NULL is \\N, the empty string stays empty', () => {
      expect(copyLine(['a\\b', 'c\td', 'e\nf', 'g\rh', null, '', '\\N'])).to.equal('a\\\\b\tc\\td\te\\nf\tg\\rh\t\\N\t\t\\\\N');
    });

    it('turns values into PostgreSQL text the same way in every mode', () => {
      expect(toPgText(undefined)).to.equal(null);
      expect(toPgText(12n)).to.equal('12');
      expect(toPgText(false)).to.equal('false');
      expect(toPgText(new Date(Date.UTC(2018, 5, 15, 1, 2, 3, 4)))).to.equal('2018-06-15T01:02:03.004Z');
      expect(toPgText(Buffer.from([0, 255]))).to.equal('\\x00ff');
      expect(toPgText([1, null, 'a"b', [2]])).to.equal('{"1",NULL,"a\\"b",{"2"}}');
      expect(toPgText({ a: 1 })).to.equal('{"a":1}');
      expect(() => toPgText(new Date(NaN))).to.throw(TypeError);
    });
  });

  describe('behaviour', () => {
    for (const mode of MODES) {
      it(`${mode}: writes every row, values intact, and counts them`, async () => {
        const table = fresh();
        await db.query(`CREATE TABLE ${db.schema}.${table} (id int8 PRIMARY KEY, name text, amount numeric, at timestamptz, ok bool, tags text[], doc jsonb, raw bytea)`);
        const rows = Array.from({ length: 2500 }, (_, i) => ({
          id: i + 1,
          name: i === 0 ? 'tab\there, new\nline, back\\slash, cr\r, "quote", héllo' : i === 1 ? '' : i === 2 ? null : `n${i + 1}`,
          amount: '123456789012345678901234567890.5',
          at: new Date(Date.UTC(2018, 0, 1) + i * 1000),
          ok: i % 2 === 0,
          tags: ['a', 'b,c', null],
          doc: { n: i, s: 'x' },
          raw: Buffer.from([i % 256, 0]),
        }));
        const sink = postgres.write(pool, { table, mode, batchSize: 1000 });
        const summary = await run(rows, sink);
        expect(summary.written).to.equal(2500);
        expect(sink.rows).to.equal(2500);
        expect(sink.batches).to.equal(3);
        const { rows: got } = await db.query(`SELECT id, name, amount::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, ok, tags, doc, raw FROM ${db.schema}.${table} WHERE id <= 3 ORDER BY id`);
        expect(got.map((r) => r.name)).to.deep.equal([rows[0].name, '', null]);
        expect(got[0]).to.include({ amount: '123456789012345678901234567890.5', at: '2018-01-01 00:00:00', ok: true });
        expect(got[0].tags).to.deep.equal(['a', 'b,c', null]);
        expect(got[0].doc).to.deep.equal({ n: 0, s: 'x' });
        expect(got[1].raw).to.deep.equal(Buffer.from([1, 0]));
        expect(await count(table)).to.equal(2500);
      });
    }

    it('writes array rows into the table’s columns in order, or into `columns`', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (a text, b text, c int GENERATED ALWAYS AS (length(a)) STORED)`);
      await run([['x', 'y'], ['xx', null]], postgres.write(pool, { table }));
      await run([['z']], postgres.write(pool, { table, columns: ['b'] }));
      const { rows } = await db.query(`SELECT a, b, c FROM ${db.schema}.${table} ORDER BY a NULLS LAST`);
      expect(rows).to.deep.equal([{ a: 'x', b: 'y', c: 1 }, { a: 'xx', b: null, c: 2 }, { a: null, b: 'z', c: null }]);
    });

    it('writes nothing and takes no client for an empty input', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (a text)`);
      let acquired = 0;
      const onAcquire = () => acquired++;
      pool.on('acquire', onAcquire);
      try {
        const summary = await run([], postgres.write(pool, { table }));
        expect(summary.written).to.equal(0);
      } finally {
        pool.off('acquire', onAcquire);
      }
      expect(acquired).to.equal(0);
    });

    it('insert: more than 65,535 parameters in a batch are split into statements (10 columns × 7,000 rows) (TESTPLAN E30)', async () => {
      const table = fresh();
      const columns = Array.from({ length: 10 }, (_, i) => `c${i}`);
      await db.query(`CREATE TABLE ${db.schema}.${table} (${columns.map((c) => `${c} int`).join(', ')})`);
      const rows = Array.from({ length: 7000 }, (_, r) => columns.map((_, c) => r * 10 + c));
      const sink = postgres.write(pool, { table, mode: 'insert', batchSize: 7000 });
      await run(rows, sink);
      expect(await count(table)).to.equal(7000);
      expect(sink.batches).to.equal(1);
    });

    it('upsert: a re-run writes each row once, updating the rest; the last row of a key in a batch wins (TESTPLAN E29)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v text)`);
      const rows = (v: string) => Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, v }));
      await run(rows('first'), postgres.write(pool, { table, mode: 'upsert', batchSize: 1000 }));
      await run(rows('second'), postgres.write(pool, { table, mode: 'upsert', batchSize: 700 }));
      expect(await count(table)).to.equal(3000);
      expect((await db.query(`SELECT DISTINCT v FROM ${db.schema}.${table}`)).rows).to.deep.equal([{ v: 'second' }]);
      await run([{ id: 1, v: 'a' }, { id: 1, v: 'b' }], postgres.write(pool, { table, mode: 'upsert' }));
      expect((await db.query(`SELECT v FROM ${db.schema}.${table} WHERE id = 1`)).rows).to.deep.equal([{ v: 'b' }]);
      await run([{ id: 1, v: 'c' }], postgres.write(pool, { table, mode: 'upsert', onConflict: 'nothing' }));
      expect((await db.query(`SELECT v FROM ${db.schema}.${table} WHERE id = 1`)).rows).to.deep.equal([{ v: 'b' }]);
    });

    it('upsert: a value too long for varchar(n) or bit(n) is refused, as in insert and copy, in either transaction mode (stored by assignment, never a truncating cast)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, code varchar(3), flags bit(3), pad char(3), n numeric(4,1))`);
      for (const transaction of ['batch', 'load'] as const) {
        for (const mode of MODES) {
          const tooLong = await rejection(run([{ id: 1, code: 'abcd' }], postgres.write(pool, { table, mode, transaction })));
          expect(tooLong.message, `${mode}, ${transaction}`).to.contain('value too long for type character varying(3)');
          const wrongLength = await rejection(run([{ id: 1, flags: '1011' }], postgres.write(pool, { table, mode, transaction })));
          expect(wrongLength.message, `${mode}, ${transaction}`).to.contain('bit string length 4 does not match type bit(3)');
        }
      }
      expect(await count(table)).to.equal(0);
      // Modifiers that round or pad do so alike in every mode.
      for (const [i, mode] of MODES.entries()) {
        await run([{ id: i, code: 'ab', flags: '101', pad: 'a', n: '12.34' }], postgres.write(pool, { table, mode }));
        await run([{ id: 10 + i, code: 'ab', flags: '101', pad: 'a', n: '12.36' }], postgres.write(pool, { table, mode, transaction: 'load' }));
      }
      const { rows } = await db.query(`SELECT DISTINCT code, flags::text, pad || '|' AS pad, n::text FROM ${db.schema}.${table} ORDER BY n`);
      expect(rows).to.deep.equal([
        { code: 'ab', flags: '101', pad: 'a|', n: '12.3' },
        { code: 'ab', flags: '101', pad: 'a|', n: '12.4' },
      ]);
    });

    it("upsert with transaction: 'load' (through unnest, no staging table): a re-run updates, the last row of a key in a batch wins", async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v text, tags text[])`);
      const rows = (v: string) => Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, v, tags: [v, 'b,c', null] }));
      await run(rows('first'), postgres.write(pool, { table, mode: 'upsert', transaction: 'load', batchSize: 1000 }));
      // Row 3,001 repeats the key of row 2,999, in the same batch (rows 2,801–3,001).
      await run([...rows('second'), { id: 2999, v: 'last', tags: [] }], postgres.write(pool, { table, mode: 'upsert', transaction: 'load', batchSize: 700 }));
      expect(await count(table)).to.equal(3000);
      const { rows: got } = await db.query(`SELECT id, v, tags FROM ${db.schema}.${table} WHERE id IN (1, 2999) ORDER BY id`);
      expect(got).to.deep.equal([{ id: 1, v: 'second', tags: ['second', 'b,c', null] }, { id: 2999, v: 'last', tags: [] }]);
    });

    it('upsert: stages each batch in a temporary table of its own, dropped when the sink ends or fails (the session keeps none)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v text CHECK (v <> 'bad'))`);
      const client = new pg.Client(db.config());
      await client.connect();
      const temporary = async () => Number((await client.query(`SELECT count(*) AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema()`)).rows[0].n);
      try {
        await run(Array.from({ length: 2500 }, (_, i) => ({ id: i, v: 'ok' })), postgres.write(client, { table, mode: 'upsert', batchSize: 1000 }));
        expect(await temporary()).to.equal(0);
        const error = await rejection(run([{ id: 1, v: 'bad' }], postgres.write(client, { table, mode: 'upsert' })));
        expect(error).to.be.instanceOf(PostgresWriteError);
        expect(await temporary()).to.equal(0);
        await run([{ id: 1, v: 'again' }], postgres.write(client, { table, mode: 'upsert', transaction: 'load' }));
        expect(await temporary()).to.equal(0);
      } finally {
        await client.end();
      }
      expect(await count(table)).to.equal(2500);
    });

    it('copy: the data goes out with the COPY statement; when the statement fails before copying (lock_timeout), the server drops that data and the connection stays in step', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int, pad text)`);
      const rows = Array.from({ length: 2500 }, (_, i) => [i, 'x'.repeat(1000)]); // 2.5 MB a batch: more than a socket buffer
      const client = new pg.Client(db.config());
      await client.connect();
      try {
        await client.query(`SET lock_timeout = '200ms'`);
        const locker = await pool.connect();
        await locker.query(`BEGIN; LOCK TABLE ${db.schema}.${table} IN ACCESS EXCLUSIVE MODE`);
        let error: Error & Record<string, unknown>;
        try {
          error = await rejection(run(rows, postgres.write(client, { table, batchSize: 2500 })));
        } finally {
          await locker.query('COMMIT');
          locker.release();
        }
        expect(error).to.be.instanceOf(PostgresWriteError);
        expect(error).to.include({ code: '55P03', batch: 1 });
        expect((await client.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
        await run(rows, postgres.write(client, { table, batchSize: 2500 }));
      } finally {
        await client.end();
      }
      expect(await count(table)).to.equal(2500);
    });

    it("transaction: 'load' commits everything at the end, as one", async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY)`);
      const sink = postgres.write(pool, { table, transaction: 'load', batchSize: 100 });
      const summary = await run(Array.from({ length: 1000 }, (_, i) => ({ id: i })), sink);
      expect(summary.written).to.equal(1000);
      expect(await count(table)).to.equal(1000);
    });

    it('loads rows from csv.read and names their source lines in errors', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, name text CHECK (name <> 'bad'))`);
      const lines = ['id,name', ...Array.from({ length: 50 }, (_, i) => `${i + 1},${i === 30 ? 'bad' : `n${i + 1}`}`)].join('\n');
      const error = await rejection(run(csv.read(Readable.from([lines]), { rows: 'objects', source: 'in.csv' }), postgres.write(pool, { table, batchSize: 20 })));
      expect(error).to.be.instanceOf(PostgresWriteError);
      expect(error.message).to.contain('batch 2, rows 21–40 (in.csv, lines 22–41), failed at row 31 (row 11 of the batch; in.csv, line 32)');
      expect(error).to.include({ batch: 2, row: 31, source: 'in.csv', line: 32 });
      expect(await count(table)).to.equal(20);
    });
  });

  describe('names (TESTPLAN E32)', () => {
    it('quotes hostile, mixed-case and qualified names, each part on its own', async () => {
      const table = fresh();
      const hostile = 'a"; DROP TABLE t;--';
      await db.query(`CREATE TABLE ${db.schema}.${table} (${quoteIdent(hostile)} text, "Name" text, name text)`);
      await run([{ [hostile]: 'h', Name: 'upper', name: 'lower' }], postgres.write(pool, { table: `${db.schema}.${table}`, mode: 'insert' }));
      await run([['h2', 'U', 'l']], postgres.write(pool, { table: [db.schema, table] }));
      const { rows } = await db.query(`SELECT ${quoteIdent(hostile)} AS h, "Name" AS u, name AS l FROM ${db.schema}.${table} ORDER BY 1`);
      expect(rows).to.deep.equal([{ h: 'h', u: 'upper', l: 'lower' }, { h: 'h2', u: 'U', l: 'l' }]);
    });

    it('refuses names that are not exactly a column of the table, before any row is sent', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (name text)`);
      const cases: [unknown[], string | RegExp][] = [
        [[{ Name: 'x' }], 'not a column of'],
        [[{ 'name"; DROP TABLE x;--': 'x' }], 'not a column of'],
      ];
      for (const [rows, message] of cases) {
        const error = await rejection(run(rows, postgres.write(pool, { table })));
        expect(error.message).to.contain(message);
      }
      expect((await rejection(run([{ Name: 'x' }], postgres.write(pool, { table })))).message).to.contain('did you mean "name"?');
      expect(await count(table)).to.equal(0);
    });

    it('refuses names PostgreSQL would truncate (two 70-byte names would collide), NUL and empty names', async () => {
      const long = 'x'.repeat(63);
      expect(() => postgres.write(pool, { table: 't', columns: [`${long}_one_more`] })).to.throw(TypeError, 'at most 63 bytes');
      expect(() => postgres.write(pool, { table: `${long}_a` })).to.throw(TypeError, 'at most 63 bytes');
      expect(() => postgres.write(pool, { table: 't', columns: ['a\0b'] })).to.throw(TypeError, 'NUL');
      expect(() => postgres.write(pool, { table: 't', columns: [''] })).to.throw(TypeError, 'non-empty name');
      expect(() => postgres.write(pool, { table: 'a.b.c' })).to.throw(TypeError, '[schema, name]');
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (a text)`);
      const error = await rejection(run([{ [`${long}_1`]: 1, [`${long}_2`]: 2 }], postgres.write(pool, { table })));
      expect(error.message).to.contain('at most 63 bytes');
    });

    it('refuses a table that does not exist, naming it, and does not look in other schemas', async () => {
      const error = await rejection(run([{ a: 1 }], postgres.write(pool, { table: 'no_such_table; DROP TABLE x' })));
      expect(error.message).to.contain('no table "no_such_table; DROP TABLE x" on the search_path');
    });

    it('a table name that differs only by case gets "did you mean" (issue 12 §6)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (a int)`);
      const error = await rejection(run([{ a: 1 }], postgres.write(pool, { table: table.toUpperCase() })));
      expect(error.message).to.contain(`no table "${table.toUpperCase()}" on the search_path (names are matched exactly, case included; did you mean "${table}"?)`);
    });
  });

  describe('options', () => {
    it('rejects invalid options with messages that name them', () => {
      expect(() => postgres.write(pool, undefined as never)).to.throw(TypeError, '`table`');
      expect(() => postgres.write(pool, { table: 't', mode: 'merge' as never })).to.throw(TypeError, "postgres.write(): expected `mode` to be one of 'copy', 'insert', 'upsert', got `merge` (string)");
      expect(() => postgres.write(pool, { table: 't', batchSize: 0 })).to.throw(TypeError, 'postgres.write(): expected `batchSize` to be an integer from 1 and up, got `0` (number)');
      expect(() => postgres.write(pool, { table: 't', key: ['id'] })).to.throw(TypeError, "`key` to be given only with mode: 'upsert'");
      expect(() => postgres.write(pool, { table: 't', transaction: 'load', onError: 'reject' })).to.throw(TypeError, '`onError`');
      expect(() => postgres.write('postgres://u:secret@h/db' as never, { table: 't', mode: 'x' as never })).to.throw(TypeError).with.property('message').not.contain('secret');
    });

    it('defaults: copy, batches of 5,000 (1,000 for insert), one transaction a batch', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int)`);
      const sink = postgres.write(pool, { table });
      await run(Array.from({ length: 12_000 }, (_, i) => [i]), sink);
      expect(sink.batches).to.equal(3);
      const insert = postgres.write(pool, { table, mode: 'insert' });
      await run(Array.from({ length: 2_500 }, (_, i) => [i]), insert);
      expect(insert.batches).to.equal(3);
    });

    it('upsert needs a key: the primary key by default, else `key`', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int UNIQUE, v text)`);
      expect((await rejection(run([{ id: 1, v: 'a' }], postgres.write(pool, { table, mode: 'upsert' })))).message).to.contain('upsert needs `key`');
      await run([{ id: 1, v: 'a' }], postgres.write(pool, { table, mode: 'upsert', key: ['id'] }));
      expect(await count(table)).to.equal(1);
    });
  });

  describe('failed batches (TESTPLAN E28)', () => {
    for (const mode of MODES) {
      it(`${mode}: row 317 of batch 4 violates a constraint → batches 1–3 committed, batch 4 rolled back, the error names batch and row${mode === 'copy' ? ' (TESTPLAN E31: a bad row aborts the COPY)' : ''}`, async () => {
        const table = fresh();
        await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v int CHECK (v >= 0))`);
        const rows = Array.from({ length: 6000 }, (_, i) => ({ id: i + 1, v: i === 3316 ? -1 : i }));
        const sink = postgres.write(pool, { table, mode, batchSize: 1000 });
        const error = await rejection(run(rows, sink));
        expect(error).to.be.instanceOf(PostgresWriteError);
        expect(error).to.include({ batch: 4, row: 3317, code: '23514' });
        expect(error.rows).to.deep.equal([3001, 4000]);
        expect(error.message).to.contain('batch 4, rows 3001–4000, failed at row 3317 (row 317 of the batch); none of its rows were written (batches 1–3 are committed)');
        expect(error.message).to.contain('violates check constraint');
        expect(await count(table)).to.equal(3000);
        expect(sink.rows).to.equal(3000);
      });
    }

    it("transaction: 'load' rolls back everything", async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY)`);
      const rows = Array.from({ length: 500 }, (_, i) => ({ id: i === 450 ? 3 : i }));
      const error = await rejection(run(rows, postgres.write(pool, { table, mode: 'insert', transaction: 'load', batchSize: 100 })));
      expect(error.message).to.contain('batch 5, rows 401–500, failed at row 451 (row 51 of the batch); the whole load was rolled back');
      expect(error.code).to.equal('23505');
      expect(await count(table)).to.equal(0);
    });

    it("onError: 'reject' sends the refused batch's rows to the reject channel and goes on", async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v int CHECK (v >= 0))`);
      const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, v: i === 150 || i === 350 ? -1 : i }));
      const rejects: Reject[] = [];
      const summary = await run(rows, postgres.write(pool, { table, batchSize: 100, onError: 'reject' }), { rejects: (r) => void rejects.push(r) });
      expect(summary).to.include({ read: 400, written: 200, rejected: 200 });
      expect(rejects.map((r) => r.index)).to.deep.equal([...Array.from({ length: 100 }, (_, i) => 101 + i), ...Array.from({ length: 100 }, (_, i) => 301 + i)]);
      expect(rejects[0].reason).to.contain('failed at row 151 (row 51 of the batch); none of its rows were written (batch 1 is committed)');
      // Batch 2 was refused, so "batches 1–3" would be wrong: the reason counts what is committed.
      expect(rejects[100].reason).to.contain('failed at row 351 (row 51 of the batch); none of its rows were written (2 earlier batches are committed)');
      expect(await count(table)).to.equal(200);
    });

    it('copy: a source error in the middle of a one-transaction load fails with that error; no row is visible, the client is usable (TESTPLAN E31)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int)`);
      const boom = new Error('source broke mid-load');
      const one = db.pool({ max: 1 });
      const error = await rejection(run(async function* () {
        for (let i = 0; i < 2500; i++) yield [i];
        throw boom;
      }, postgres.write(one, { table, mode: 'copy', transaction: 'load', batchSize: 1000 })));
      expect(error).to.equal(boom);
      expect(await count(table)).to.equal(0);
      expect(one.totalCount).to.equal(one.idleCount);
      expect((await one.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
    });

    it('a row that cannot be encoded fails its batch before anything of it is sent', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (a text)`);
      const error = await rejection(run([['x'], ['y', 'extra']], postgres.write(pool, { table })));
      expect(error.message).to.contain('failed at row 2 (row 2 of the batch); nothing of it was sent: expected 1 values, got 2');
      expect(await count(table)).to.equal(0);
    });
  });

  describe('backpressure and cancellation', () => {
    it('holds the source while a batch is being written: no more than two batches and the buffers are pulled', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int)`);
      const locker = await pool.connect();
      await locker.query(`BEGIN; LOCK TABLE ${db.schema}.${table} IN ACCESS EXCLUSIVE MODE`);
      let pulled = 0;
      const source = Readable.from((function* () {
        for (let i = 0; i < 100_000; i++) {
          pulled++;
          yield [i];
        }
      })(), { highWaterMark: 16 });
      const done = run(source, postgres.write(db.url, { table, batchSize: 1000 }));
      try {
        // Wait until our COPY waits for the lock.
        for (;;) {
          const { rows } = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [APP]);
          if (rows.length > 0) break;
          await turn();
        }
        const before = pulled;
        for (let i = 0; i < 50; i++) await turn();
        expect(pulled).to.equal(before);
        // One batch on the server, the next one full behind it, plus the buffers between
        // source and sink (16 each side) — and that bound is reached.
        expect(pulled).to.be.within(2000, 2000 + 16 * 5);
      } finally {
        await locker.query('COMMIT');
        locker.release();
      }
      expect((await done).written).to.equal(100_000);
    });

    it('an upsert load killed midway (AbortSignal), then run again over the same input, holds each row exactly once (count and checksum)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int PRIMARY KEY, v text)`);
      const total = 20_000;
      const input = function* (onRow?: (id: number) => void) {
        for (let id = 1; id <= total; id++) {
          onRow?.(id);
          yield { id, v: `row ${id}${'\t\\'.repeat(id % 3)}` };
        }
      };
      const controller = new AbortController();
      // Aborted from outside the generator (as a signal would be), once row 11,500 is read.
      const killed = await rejection(
        run(input((id) => id === 11_500 && setImmediate(() => controller.abort())), postgres.write(pool, { table, mode: 'upsert', batchSize: 1000 }), { signal: controller.signal }),
      );
      expect(killed).to.be.instanceOf(AbortError);
      const partial = await count(table);
      expect(partial, 'midway: some batches committed, not all').to.be.within(1000, total - 1000);
      expect(partial % 1000, 'whole batches only').to.equal(0);
      const summary = await run(input(), postgres.write(pool, { table, mode: 'upsert', batchSize: 1000 }));
      expect(summary.written).to.equal(total);
      const { rows } = await db.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, md5(string_agg(id || ':' || v, ',' ORDER BY id)) AS checksum FROM ${db.schema}.${table}`);
      const expected = createHash('md5').update(Array.from(input(), (row) => `${row.id}:${row.v}`).join(',')).digest('hex');
      expect(rows[0]).to.deep.equal({ n: total, ids: total, checksum: expected });
    });

    it('abort cancels the running statement on the server and rolls the batch back (TESTPLAN B15: the open transaction)', async () => {
      const table = fresh();
      await db.query(`CREATE TABLE ${db.schema}.${table} (id int)`);
      const locker = await pool.connect();
      await locker.query(`BEGIN; LOCK TABLE ${db.schema}.${table} IN ACCESS EXCLUSIVE MODE`);
      const controller = new AbortController();
      const one = db.pool({ max: 1 });
      const done = rejection(run(Array.from({ length: 5000 }, (_, i) => [i]), postgres.write(one, { table, mode: 'insert', batchSize: 2000 }), { signal: controller.signal }));
      try {
        for (;;) {
          const { rows } = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [APP]);
          if (rows.length > 0) break;
          await turn();
        }
        const reason = new Error('operator cancelled the load');
        controller.abort(reason);
        const error = await done;
        expect(error).to.be.instanceOf(AbortError);
        expect(error.cause, 'the abort reason').to.equal(reason);
      } finally {
        await locker.query('COMMIT');
        locker.release();
      }
      expect(one.totalCount).to.equal(one.idleCount);
      // The backend of a discarded client ends a moment after it (no event says when, as
      // the leak gate knows): wait until ours are quiet, bounded, then count what is left.
      let busy = await db.busySessions();
      for (let i = 0; busy.length > 0 && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        busy = await db.busySessions();
      }
      expect(busy).to.deep.equal([]);
      expect(await count(table)).to.equal(0);
    });
  });
});
