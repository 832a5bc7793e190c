import { expect } from 'chai';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { AbortError, map, pipe, postgres, run, take, type Summary } from '../../lib/index.js';
import { PostgresError } from '../../lib/postgres/connection.js';
import { rejection } from '../helpers/csv.js';
import { APP, usePostgres, withParams } from '../helpers/postgres.js';
import { turn } from '../helpers/streams.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** An object-mode Writable that keeps rows; while `stalled`, it holds each write until resumed. */
class Sink extends Writable {
  readonly rows: unknown[] = [];
  private held: (() => void)[] = [];
  constructor(public stalled = false) {
    super({ objectMode: true, highWaterMark: 1 });
  }
  override _write(row: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.rows.push(row);
    if (this.stalled) {
      this.held.push(callback);
      this.emit('received');
    } else callback();
  }
  resume(): void {
    this.stalled = false;
    for (const callback of this.held.splice(0)) callback();
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.held = [];
    callback(error);
  }
}

function counts(summary: Summary): Omit<Summary, 'ms'> {
  const { ms: _ms, ...rest } = summary;
  return rest;
}

describe('postgres.query()', function () {
  this.timeout(30_000);
  const db = usePostgres();
  let pool: pg.Pool;

  before(async () => {
    pool = db.pool({ max: 2 });
    await db.query(`CREATE TABLE ${db.schema}.numbers AS SELECT i AS id, 'n' || i AS name FROM generate_series(1, 5000) i`);
    await db.query(`ALTER TABLE ${db.schema}.numbers ADD PRIMARY KEY (id)`);
  });

  /** The backend pids of our sessions that are running a statement. */
  async function activePids(): Promise<number[]> {
    const { rows } = await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'`, [APP]);
    return rows.map((r) => r.pid);
  }

  describe('behaviour', () => {
    it('streams every row as an object, with parameters, and counts them', async () => {
      const sink = new Sink();
      const summary = await run(postgres.query(pool, 'SELECT id, name FROM numbers WHERE id <= $1 ORDER BY id', [2500]), sink);
      expect(sink.rows).to.have.length(2500);
      expect(sink.rows[0]).to.deep.equal({ id: 1, name: 'n1' });
      expect(sink.rows[2499]).to.deep.equal({ id: 2500, name: 'n2500' });
      expect(counts(summary)).to.deep.equal({ read: 2500, written: 2500, filtered: 0, rejected: 0, stoppedEarly: false });
      expect(pool.idleCount).to.equal(pool.totalCount);
    });

    it('gives arrays with rowMode: array, and ends cleanly on an exact multiple of batchSize', async () => {
      const source = postgres.query(pool, 'SELECT id, name FROM numbers WHERE id <= 2000 ORDER BY id', [], { rowMode: 'array', batchSize: 500 });
      const sink = new Sink();
      await run(source, sink);
      expect(sink.rows).to.have.length(2000);
      expect(sink.rows[1999]).to.deep.equal([2000, 'n2000']);
      expect(source.batches).to.equal(5); // four full ones, then the empty one that says "done"
    });

    it('reads an empty result', async () => {
      const sink = new Sink();
      const summary = await run(postgres.query(pool, 'SELECT id FROM numbers WHERE false'), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(summary.read).to.equal(0);
    });

    it('does not take a client before it is read, and gives it back before it ends', async () => {
      const source = postgres.query(pool, 'SELECT 1 AS one');
      await turn();
      expect(pool.totalCount - pool.idleCount).to.equal(0);
      const rows: unknown[] = [];
      source.on('data', (row) => rows.push(row));
      await once(source, 'end');
      expect(rows).to.deep.equal([{ one: 1 }]);
      expect(pool.totalCount).to.equal(pool.idleCount);
    });

    it('works with a connection string, closing its own connection', async () => {
      const source = postgres.query(db.url, 'SELECT count(*)::int AS n FROM numbers');
      const sink = new Sink();
      await run(source, sink);
      expect(sink.rows).to.deep.equal([{ n: 5000 }]);
      expect(await db.busySessions()).to.deep.equal([]);
    });

    it('works with a connected client, which stays the caller’s and stays usable', async () => {
      const client = new pg.Client(db.config());
      await client.connect();
      try {
        const sink = new Sink();
        await run(postgres.query(client, 'SELECT id FROM numbers WHERE id <= 3', [], { rowMode: 'array' }), take(2), sink);
        expect(sink.rows).to.deep.equal([[1], [2]]);
        expect((await client.query('SELECT 1 AS x')).rows).to.deep.equal([{ x: 1 }]);
      } finally {
        await client.end();
      }
    });

    for (const copy of [false, true]) {
      it(`TESTPLAN A10: a 50 MB field (${copy ? 'copy: true' : 'cursor'}) arrives whole while memory grows by under 5× the field; the ~512 MB string limit is documented`, async () => {
        const size = 50 * 1024 * 1024;
        setFlagsFromString('--expose-gc');
        const gc = runInNewContext('gc') as () => void;
        // Heap (where the field's string lives) plus Buffers (where pg gathers the message).
        const used = () => {
          const { heapUsed, arrayBuffers } = process.memoryUsage();
          return heapUsed + arrayBuffers;
        };
        gc();
        const base = used();
        let peak = base;
        const sample = setInterval(() => (peak = Math.max(peak, used())), 1);
        let length = 0;
        let ends = '';
        const sink = new Writable({
          objectMode: true,
          write(row: { big: string }, _encoding, callback) {
            peak = Math.max(peak, used());
            length = row.big.length;
            ends = row.big.slice(0, 4) + row.big.slice(-4);
            callback();
          },
        });
        try {
          await run(postgres.query(pool, `SELECT 1 AS id, repeat('ab', ${size / 2}) || 'end' AS big`, [], { copy }), sink);
        } finally {
          clearInterval(sample);
        }
        expect(length).to.equal(size + 3);
        expect(ends).to.equal('ababbend');
        expect((peak - base) / size, `grew by ${((peak - base) / 1048576).toFixed(0)} MB`).to.be.below(5);
        expect(await readFile(`${root}docs/postgres.md`, 'utf8')).to.match(/a single field is limited to\s+~512 MB/);
      });
    }
  });

  describe('options', () => {
    it('defaults: batchSize 1000, highWaterMark = batchSize, object rows', () => {
      const source = postgres.query(pool, 'SELECT 1');
      expect(source.readableHighWaterMark).to.equal(1000);
      expect(source.readableObjectMode).to.equal(true);
      expect(postgres.query(pool, 'SELECT 1', [], { batchSize: 50 }).readableHighWaterMark).to.equal(50);
      expect(postgres.query(pool, 'SELECT 1', [], { batchSize: 50, highWaterMark: 7 }).readableHighWaterMark).to.equal(7);
    });

    it('rejects invalid options with messages that name them', () => {
      expect(() => postgres.query(pool, 'SELECT 1', [], { batchSize: 0 })).to.throw(TypeError, 'postgres.query(): expected `batchSize` to be an integer from 1 and up, got `0` (number)');
      expect(() => postgres.query(pool, 'SELECT 1', [], { rowMode: 'rows' as never })).to.throw(TypeError, "postgres.query(): expected `rowMode` to be one of 'object', 'array', got `rows` (string)");
      expect(() => postgres.query(pool, 'SELECT 1', [], { types: 'float' as never })).to.throw(TypeError, '`types`');
      expect(() => postgres.query(pool, 'SELECT 1', [], { statementTimeout: -1 })).to.throw(TypeError, '`statementTimeout`');
      expect(() => postgres.query(pool, 'SELECT 1', [], { keyset: { key: [] } })).to.throw(TypeError, '`keyset.key`');
      expect(() => postgres.query(pool, '')).to.throw(TypeError, '`sql`');
      expect(() => postgres.query(pool, 'SELECT $1', 5 as never)).to.throw(TypeError, '`params`');
      expect(() => postgres.query({} as never, 'SELECT 1')).to.throw(TypeError, 'postgres.query(): expected `target` to be a pg.Pool, a connected pg.Client or a connection string, got object');
    });

    it('does not accept a QueryStream or Cursor as the query (pool.query would leak its client) (TESTPLAN A6)', () => {
      const stream = new QueryStream('SELECT 1');
      expect(() => postgres.query(pool, stream as never)).to.throw(TypeError, 'submittable');
      expect(pool.totalCount).to.equal(pool.idleCount);
    });

    it('does not change the options object', () => {
      const options = Object.freeze({ batchSize: 10, keyset: Object.freeze({ key: 'id' }) });
      postgres.query(pool, 'SELECT 1', [], options);
      expect(options).to.deep.equal({ batchSize: 10, keyset: { key: 'id' } });
    });

    it('statementTimeout: the server cancels a long statement, and the session keeps its own setting', async () => {
      const client = new pg.Client(db.config());
      await client.connect();
      try {
        await client.query(`SET statement_timeout = '42s'`);
        const error = await rejection(run(postgres.query(client, 'SELECT pg_sleep(5)', [], { statementTimeout: 50 }), new Sink()));
        expect(error).to.be.instanceOf(PostgresError);
        expect(error.code).to.equal('57014');
        expect(error.message).to.contain('statement timeout');
        expect((await client.query('SHOW statement_timeout')).rows[0].statement_timeout).to.equal('42s');
      } finally {
        await client.end();
      }
    });

    it('statementTimeout covers a cursor held open by a stalled consumer (TESTPLAN A3)', async () => {
      const sink = new Sink(true);
      const started = Date.now();
      const error = await rejection(run(postgres.query(pool, 'SELECT i FROM generate_series(1, 100000) i', [], { statementTimeout: 300, batchSize: 100 }), sink));
      expect(error.code).to.equal('57014');
      expect(error.message).to.match(/statement timeout/);
      expect(Date.now() - started).to.be.below(10_000);
      expect(sink.rows.length).to.be.greaterThan(0); // rows already delivered stay delivered
    });
  });

  describe('types (TESTPLAN A9)', () => {
    const sql = `SELECT 9007199254740993::int8 AS big, 123456789012345678901234567890::numeric AS num,
      '2018-06-15'::date AS d, '2018-03-11 02:30:00.123456'::timestamp AS ts, 'infinity'::timestamp AS inf,
      '0044-03-15 BC'::date AS bc, '{"n": 12345678901234567890}'::jsonb AS j, '\\x00ff'::bytea AS b,
      NULL::text AS nul, ''::text AS empty, true AS t, 1.5::float8 AS f, 42 AS i, ARRAY[9007199254740993]::int8[] AS bigs,
      ARRAY['2018-01-01'::date] AS dates`;

    it("'exact' keeps precision and the server's text for dates", async () => {
      const sink = new Sink();
      await run(postgres.query(pool, sql), sink);
      expect(sink.rows[0]).to.deep.equal({
        big: '9007199254740993',
        num: '123456789012345678901234567890',
        d: '2018-06-15',
        ts: '2018-03-11 02:30:00.123456',
        inf: 'infinity',
        bc: '0044-03-15 BC',
        j: '{"n": 12345678901234567890}',
        b: Buffer.from([0, 255]),
        nul: null,
        empty: '',
        t: true,
        f: 1.5,
        i: 42,
        bigs: ['9007199254740993'],
        dates: ['2018-01-01'],
      });
    });

    it("'text' gives every value as text; a custom parser set is used per query; pg.types is untouched", async () => {
      const before = pg.types.getTypeParser(20);
      const text = new Sink();
      const custom = new Sink();
      await run(postgres.query(pool, 'SELECT 1::int4 AS a, true AS b', [], { types: 'text' }), text);
      await run(postgres.query(pool, 'SELECT 1::int4 AS a', [], { types: { getTypeParser: () => (v: string) => `<${v}>` } }), custom);
      expect([...text.rows, ...custom.rows]).to.deep.equal([{ a: '1', b: 't' }, { a: '<1>' }]);
      expect(pg.types.getTypeParser(20)).to.equal(before);
    });

    it('gives identical output in every process time zone', async function () {
      this.timeout(60_000);
      const outputs = await Promise.all(
        ['UTC', 'America/Los_Angeles', 'Asia/Tokyo'].map(async (tz) => {
          const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'test/fixtures/postgres-types-child.ts', db.url, sql], { cwd: root, env: { ...process.env, TZ: tz } });
          return stdout;
        }),
      );
      expect(outputs[0]).to.contain('9007199254740993').and.contain('2018-03-11 02:30:00.123456');
      expect(outputs[1]).to.equal(outputs[0]);
      expect(outputs[2]).to.equal(outputs[0]);
    });
  });

  describe('row batching (issue 5)', () => {
    it('under run(), each fetch reaches a sluice stage as one write; a plain Writable and pipe() get single rows', async () => {
      const sql = 'SELECT i FROM generate_series(1, 2500) i';
      const stage = map((row: { i: number }) => row.i);
      const writes: unknown[] = [];
      const write = stage._write.bind(stage);
      stage._write = (chunk, encoding, callback) => {
        writes.push(chunk);
        write(chunk, encoding, callback);
      };
      const sink = new Sink();
      const summary = await run(postgres.query<{ i: number }>(pool, sql, [], { batchSize: 1000 }), stage, sink);
      expect(writes.map((w) => (w as { rows: unknown[] }).rows.length)).to.deep.equal([1000, 1000, 500]);
      expect(sink.rows).to.deep.equal(Array.from({ length: 2500 }, (_, i) => i + 1));
      expect(summary).to.include({ read: 2500, written: 2500 });
      const plain = new Sink();
      expect(await run(postgres.query(pool, sql, [], { batchSize: 1000 }), plain)).to.include({ read: 2500, written: 2500 });
      expect(plain.rows[2499]).to.deep.equal({ i: 2500 });
      const piped: unknown[] = [];
      for await (const row of pipe(postgres.query(pool, sql, [], { batchSize: 1000 }))) piped.push(row);
      expect(piped).to.deep.equal(plain.rows);
    });

    it('a highWaterMark in rows becomes whole fetches: 2,500 rows of batchSize 1,000 → 3 fetches buffered', async () => {
      const source = postgres.query(pool, 'SELECT i FROM generate_series(1, 10) i', [], { batchSize: 1000, highWaterMark: 2500 });
      expect(source.readableHighWaterMark).to.equal(2500);
      await run(source, map((row: unknown) => row), new Sink());
      expect(source.readableHighWaterMark).to.equal(3);
    });
  });

  describe('backpressure', () => {
    it('a stalled consumer stops the fetching: the server produces no rows beyond what is buffered', async () => {
      await db.query(`CREATE SEQUENCE ${db.schema}.produced`);
      const source = postgres.query(pool, `SELECT nextval('produced') AS n FROM generate_series(1, 1000000)`, [], { batchSize: 100 });
      const sink = new Sink(true);
      const done = run(source, sink);
      await once(sink, 'received');
      // Wait for the fetching to settle: no fetch in flight and the source's buffer full.
      while (source.busy || source.readableLength < source.readableHighWaterMark) await once(source, 'batch');
      const produced = async () => Number((await db.query<{ n: string }>(`SELECT last_value AS n FROM ${db.schema}.produced`)).rows[0].n);
      const fetched = source.fetched;
      try {
        expect(await produced()).to.equal(fetched);
        // The bound: one fetch in the source's buffer (run() has it push each fetch as one
        // batch, its high-water mark then one batch), one the gate takes apart, and what the
        // stages after it hold (16 rows a side) — so three batches.
        expect(source.readableHighWaterMark).to.equal(1);
        expect(fetched).to.be.at.most(100 * 3);
        for (let i = 0; i < 50; i++) await turn();
        expect(source.fetched).to.equal(fetched);
        expect(await produced()).to.equal(fetched);
        // ...and the bound is reached: the buffer is full (a fetch of 100 rows), not merely small.
        expect(source.readableLength).to.equal(1);
        expect(fetched).to.be.at.least(200);
      } finally {
        sink.destroy();
        await rejection(done);
      }
    });
  });

  describe('errors', () => {
    it('a division by zero at row 500,000 fails with the SQL error, after the rows before it, and gives the client back', async () => {
      let seen = 0;
      const error = await rejection(
        run(postgres.query(pool, 'SELECT 1 / (500000 - i) AS x FROM generate_series(1, 1000000) i', [], { rowMode: 'array' }), map((row: unknown) => (seen++, row)), new Sink()),
      );
      expect(error).to.be.instanceOf(PostgresError);
      expect(error.message).to.match(/^postgres\.query\(SELECT 1 \/ \(500000 - i\).*\) failed after \d+ row\(s\): division by zero$/);
      expect(error.code).to.equal('22012');
      expect(seen).to.be.within(499_000, 499_999);
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect((await pool.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
    });

    it('a bind error gives exactly one error and leaves the client usable (TESTPLAN A8)', async () => {
      const one = db.pool({ max: 1 });
      const source = postgres.query(one, 'SELECT $1::uuid AS u', ['bad']);
      const errors: Error[] = [];
      source.on('error', (e) => errors.push(e));
      source.resume();
      await new Promise((resolve) => source.on('close', resolve));
      expect(errors).to.have.length(1);
      expect((errors[0] as PostgresError).code).to.equal('22P02');
      expect((await one.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
    });

    it('a backend terminated mid-read fails the read within 2 s, with no unhandled error (TESTPLAN A2)', async () => {
      const sink = new Sink(true);
      const source = postgres.query(pool, 'SELECT i FROM generate_series(1, 1000000) i');
      const done = rejection(run(source, sink));
      await once(sink, 'received');
      const [pid] = await activePids();
      expect(pid).to.be.a('number');
      const started = Date.now();
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      const error = await done;
      expect(Date.now() - started).to.be.below(2_000);
      expect(error.message).to.match(/terminat/);
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect((await pool.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
    });

    it('refuses a second read on a client that has a cursor open (TESTPLAN A5); a pool uses another client', async () => {
      const client = new pg.Client(db.config());
      await client.connect();
      try {
        const first = postgres.query(client, 'SELECT i FROM generate_series(1, 100000) i');
        const firstRows = pipe(first)[Symbol.asyncIterator]();
        await firstRows.next();
        const error = await rejection(run(postgres.query(client, 'SELECT 1'), new Sink()));
        expect(error.message).to.contain('busy with another query');
        await firstRows.return!();
        await once(first, 'close').catch(() => {});
        // From a pool, two reads at once simply use two clients.
        const [a, b] = await Promise.all([run(postgres.query(pool, 'SELECT 1'), new Sink()), run(postgres.query(pool, 'SELECT 2'), new Sink())]);
        expect([a.read, b.read]).to.deep.equal([1, 1]);
      } finally {
        await client.end();
      }
    });

    it('an idle pooled client killed by the server does not crash the process (TESTPLAN A7)', async () => {
      const own = new pg.Pool(db.config({ max: 1 }));
      try {
        const sink = new Sink();
        await run(postgres.query(own, 'SELECT pg_backend_pid() AS pid'), sink);
        expect(own.listenerCount('error')).to.equal(1); // added by sluice: the pool had none
        await db.query('SELECT pg_terminate_backend($1)', [(sink.rows[0] as { pid: number }).pid]);
        // pg-pool drops the dead client when its socket reports the termination; no event
        // of the pool's can be awaited here without adding an 'error' listener of our own.
        for (let i = 0; i < 200 && own.totalCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(own.totalCount).to.equal(0);
        await run(postgres.query(own, 'SELECT 1'), new Sink());
      } finally {
        await own.end();
      }
    });

    it('an unreachable server fails with host and database, never the password (TESTPLAN F33)', async () => {
      const password = 'p#ss@w`rd/:?';
      const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:1/secretdb?application_name=${APP}`;
      const error = await rejection(run(postgres.query(url, 'SELECT 1'), new Sink()));
      expect(error.message).to.contain('127.0.0.1:1/secretdb');
      for (const text of [error.message, JSON.stringify(error), (await import('node:util')).inspect(error, { depth: Infinity, showHidden: true })]) {
        expect(text).not.to.contain(password);
        expect(text).not.to.contain(encodeURIComponent(password));
      }
    });

    it('a SQL error on a connection string with a password does not carry it either (TESTPLAN F33)', async () => {
      const password = 'p#ss@w`rd';
      const url = new URL(withParams(db.url, {}));
      url.password = encodeURIComponent(password);
      const { inspect } = await import('node:util');
      const errors = [
        await rejection(run(postgres.query(url.toString(), 'SELECT 1/0'), new Sink())),
        await rejection(run(postgres.query(url.toString().replace(/\/[^/?]+\?/, '/no_such_db_sluice?'), 'SELECT 1'), new Sink())),
      ];
      for (const error of errors) {
        for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
          expect(text).not.to.contain(password);
          expect(text).not.to.contain(encodeURIComponent(password));
        }
      }
      expect(() => postgres.query(42 as never, 'SELECT 1')).to.throw(TypeError, 'got number');
    });
  });

  describe('early stop and cancellation (TESTPLAN A1)', () => {
    const million = 'SELECT i FROM generate_series(1, 1000000) i';

    it('take(1) on a 1 M-row query gives the client back and leaves no active query', async () => {
      const sink = new Sink();
      const summary = await run(postgres.query(pool, million), take(1), sink);
      expect(sink.rows).to.deep.equal([{ i: 1 }]);
      expect(summary.stoppedEarly).to.equal(true);
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect(await activePids()).to.deep.equal([]);
    });

    it('destroy() closes the cursor, then gives the client back (TESTPLAN A4)', async () => {
      const source = postgres.query(pool, million);
      await once(source, 'readable');
      source.destroy();
      await once(source, 'close');
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect(await activePids()).to.deep.equal([]);
    });

    it('for await … break releases the client', async () => {
      const source = postgres.query(pool, million);
      for await (const row of pipe(source)) {
        expect(row).to.deep.equal({ i: 1 });
        break;
      }
      if (!source.closed) await once(source, 'close');
      expect(pool.totalCount).to.equal(pool.idleCount);
    });

    it('a downstream error fails the run with that error and releases the client', async () => {
      const error = await rejection(
        run(postgres.query(pool, million), map(() => {
          throw new Error('boom');
        }), new Sink()),
      );
      expect(error.message).to.contain('boom');
      expect(pool.totalCount).to.equal(pool.idleCount);
    });

    it('an AbortSignal mid-stream ends the run with an AbortError (the reason as `cause`), closes the cursor and releases the client (TESTPLAN B15: the cursor)', async () => {
      const controller = new AbortController();
      const sink = new Sink(true);
      const done = run(postgres.query(pool, million), sink, { signal: controller.signal });
      await once(sink, 'received');
      const reason = new Error('operator cancelled the export');
      controller.abort(reason);
      const error = await rejection(done);
      expect(error).to.be.instanceOf(AbortError);
      expect(error.cause, 'the abort reason').to.equal(reason);
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect(await activePids(), 'no statement or cursor left on the server').to.deep.equal([]);
    });

    it('an AbortSignal already aborted: no client is taken, no query sent', async () => {
      const acquired = pool.totalCount - pool.idleCount;
      let connects = 0;
      const count = () => connects++;
      pool.on('acquire', count);
      try {
        const error = await rejection(run(postgres.query(pool, million), new Sink(), { signal: AbortSignal.abort() }));
        expect(error).to.be.instanceOf(AbortError);
      } finally {
        pool.off('acquire', count);
      }
      expect(connects).to.equal(0);
      expect(pool.totalCount - pool.idleCount).to.equal(acquired);
    });

    it('abort cancels a statement running on the server, at once', async () => {
      const controller = new AbortController();
      const done = run(postgres.query(pool, 'SELECT pg_sleep(30) AS slept'), new Sink(), { signal: controller.signal });
      while ((await activePids()).length === 0) await turn();
      const started = Date.now();
      controller.abort();
      expect(await rejection(done)).to.be.instanceOf(AbortError);
      expect(Date.now() - started).to.be.below(5_000);
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect(await activePids()).to.deep.equal([]);
    });

    it('a pool of size 1 survives 100 early-stopped reads in a row (TESTPLAN A4: released only after the source closed, the next pool.query does not hang)', async function () {
      this.timeout(60_000);
      const one = db.pool({ max: 1 });
      for (let i = 0; i < 100; i++) {
        const sink = new Sink();
        await run(postgres.query(one, 'SELECT i FROM generate_series(1, 10000) i', [], { batchSize: 100 }), take(i % 3 === 0 ? 1 : 150), sink);
        expect(sink.rows.length).to.equal(i % 3 === 0 ? 1 : 150);
      }
      expect(one.totalCount).to.equal(1);
      expect(one.idleCount).to.equal(1);
      expect((await one.query('SELECT 1 AS ok')).rows).to.deep.equal([{ ok: 1 }]);
    });
  });

  describe('copy: true (COPY … TO STDOUT)', () => {
    it('gives the same rows and types as the cursor, objects and arrays', async () => {
      const sql = `SELECT id, name, id::int8 * 1000000000000 AS big, 'a\tb\\c' || E'\n' AS odd, NULL::text AS nul, '' AS empty,
        '2018-03-11 02:30:00.123456'::timestamp AS ts, ARRAY[1, 2] AS arr FROM numbers WHERE id <= 3000`;
      for (const rowMode of ['object', 'array'] as const) {
        const viaCursor = new Sink();
        const viaCopy = new Sink();
        await run(postgres.query(pool, `${sql} ORDER BY id`, [], { rowMode }), viaCursor);
        const source = postgres.query(pool, `${sql} ORDER BY id`, [], { rowMode, copy: true });
        const summary = await run(source, viaCopy);
        expect(viaCopy.rows).to.deep.equal(viaCursor.rows);
        expect(summary.read).to.equal(3000);
      }
    });

    it('a stalled consumer blocks the server on its send (wait event ClientWrite); take(1) releases the client', async () => {
      const sink = new Sink(true);
      const source = postgres.query(pool, 'SELECT i, md5(i::text) FROM generate_series(1, 1000000) i', [], { copy: true, batchSize: 100 });
      const done = rejection(run(source, sink));
      await once(sink, 'received');
      let waits: string[] = [];
      while (!waits.includes('ClientWrite')) {
        waits = (await db.query<{ w: string }>(`SELECT wait_event AS w FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%'`, [APP])).rows.map((r) => r.w);
        await turn();
      }
      expect(source.fetched).to.be.below(1_000_000);
      sink.destroy();
      await done;
      expect(pool.totalCount).to.equal(pool.idleCount);
      const few = new Sink();
      await run(postgres.query(pool, 'SELECT i FROM generate_series(1, 1000000) i', [], { copy: true }), take(1), few);
      expect(few.rows).to.deep.equal([{ i: 1 }]);
      expect(await activePids()).to.deep.equal([]);
    });

    it('a SQL error mid-COPY fails with it and gives the client back; parameters are refused', async () => {
      const error = await rejection(run(postgres.query(pool, 'SELECT 1 / (50000 - i) FROM generate_series(1, 100000) i', [], { copy: true }), new Sink()));
      expect(error.code).to.equal('22012');
      expect(pool.totalCount).to.equal(pool.idleCount);
      expect(() => postgres.query(pool, 'SELECT $1', [1], { copy: true })).to.throw(TypeError, 'COPY takes no parameters');
    });
  });

  describe('keyset pagination', () => {
    it('reads every row once, in key order, one short statement per batch', async () => {
      const source = postgres.query(pool, 'SELECT id, name FROM numbers WHERE id > $1', [10], { keyset: { key: 'id' }, batchSize: 1000 });
      const sink = new Sink();
      await run(source, sink);
      expect(sink.rows).to.have.length(4990);
      expect((sink.rows as { id: number }[]).map((r) => r.id)).to.deep.equal(Array.from({ length: 4990 }, (_, i) => i + 11));
      expect(source.batches).to.equal(5);
    });

    it('holds no transaction or running statement between batches (TESTPLAN A11: the documented way around PgBouncer transaction pooling, which breaks cursors); composite keys and array rows work', async () => {
      const sink = new Sink(true);
      const source = postgres.query(pool, 'SELECT id % 7 AS k, id, name FROM numbers', [], { keyset: { key: ['k', 'id'] }, batchSize: 100, rowMode: 'array' });
      const done = run(source, sink);
      await once(sink, 'received');
      while (source.busy || source.readableLength < source.readableHighWaterMark) await once(source, 'batch');
      try {
        const { rows } = await db.query<{ state: string }>(`SELECT state FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%sluice_keyset%'`, [APP]);
        expect(rows.map((r) => r.state)).to.deep.equal(['idle']);
      } finally {
        sink.resume();
      }
      await done;
      expect(sink.rows[0]).to.deep.equal([0, 7, 'n7']);
      expect(sink.rows[4999]).to.deep.equal([6, 4997, 'n4997']); // the largest id with id % 7 = 6
      const readme = await readFile(`${root}docs/postgres.md`, 'utf8');
      expect(readme).to.match(/PgBouncer in transaction pooling mode breaks cursors\*\* \("portal … does not exist"\)[^]*?or `keyset`/);
    });

    it('fails clearly when the key is not a column of the result', async () => {
      const error = await rejection(run(postgres.query(pool, 'SELECT name FROM numbers', [], { keyset: { key: 'id' } }), new Sink()));
      expect(error.message).to.match(/column .*\bid\b.* does not exist/);
    });
  });
});
