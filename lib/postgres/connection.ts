/**
 * Connections for the PostgreSQL source and sink: taking a client from what the caller
 * gave (a pg.Pool, a connected client, or a connection string), watching it for a dead
 * socket, cancelling a running statement, and giving it back exactly once.
 *
 * Invariants: a lease is released once; a client whose connection failed, or whose
 * statement we cancelled, is never handed back to a pool (it is destroyed instead — a late
 * cancel could otherwise hit the next user's query); an error never carries the password.
 */
import { connect as netConnect } from 'node:net';
import type pg from 'pg';
import { loadPg } from './pg-module.js';
import { fail, invalid } from '../core/validate.js';

/** What a PostgreSQL stage can work with: a pool, an already-connected client, or a connection string. */
export type PgTarget = pg.Pool | pg.ClientBase | string;

type Kind = 'pool' | 'client' | 'string';

/** A failure reported by PostgreSQL or by the connection to it, naming the stage. */
export class PostgresError extends Error {
  override name = 'PostgresError';
  /** SQLSTATE (e.g. `22012` division by zero, `57014` cancelled), when the server sent one. */
  readonly code?: string;
  readonly severity?: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
  readonly where?: string;
  readonly table?: string;
  readonly column?: string;
  readonly constraint?: string;

  constructor(message: string, cause?: unknown, fields?: { code?: string }) {
    super(message, cause === undefined ? undefined : { cause });
    const source = { ...(cause ?? {}), ...fields } as Record<string, unknown>;
    for (const key of ['code', 'severity', 'detail', 'hint', 'position', 'where', 'table', 'column', 'constraint'] as const) {
      if (typeof source[key] === 'string') (this as Record<string, unknown>)[key] = source[key];
    }
  }
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** host:port/database of a pool, client or connection string — never user or password. */
function describeServer(target: PgTarget | pg.ClientConfig | undefined): string {
  let host: unknown;
  let port: unknown;
  let database: unknown;
  const fromUrl = (text: string) => {
    try {
      const url = new URL(text);
      host = url.hostname || url.searchParams.get('host') || undefined;
      port = url.port || undefined;
      database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
    } catch {
      host = undefined; // not a URL (e.g. 'host=… dbname=…'): name nothing rather than risk the password
    }
  };
  if (typeof target === 'string') fromUrl(target);
  else if (target && typeof target === 'object') {
    const config = ((target as { options?: pg.PoolConfig }).options ??
      (target as { connectionParameters?: pg.ClientConfig }).connectionParameters ??
      target) as pg.ClientConfig;
    if (typeof config.connectionString === 'string') fromUrl(config.connectionString);
    host = config.host ?? host;
    port = config.port ?? port;
    database = config.database ?? database;
  }
  return `${host ?? 'localhost'}:${port ?? 5432}/${database ?? ''}`;
}

export function checkTarget(path: string, value: unknown): Kind {
  if (typeof value === 'string') {
    if (value.length === 0) fail(path, 'a pg.Pool, a connected pg.Client or a connection string', value);
    return 'string';
  }
  if (value && typeof value === 'object' && typeof (value as pg.Pool).connect === 'function') {
    if ('totalCount' in value && 'idleCount' in value) return 'pool';
    if (typeof (value as pg.ClientBase).query === 'function') return 'client';
  }
  // Never describe a string here: it may be a connection string with a password.
  throw invalid(`Expected \`${path}\` to be a pg.Pool, a connected pg.Client or a connection string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
}

// Clients that a sluice stage is using right now: a second stage on the same client is
// refused (its query would queue behind an open cursor that nobody reads: a hang).
const inUse = new WeakSet<object>();

// A pool without an 'error' listener crashes the process when an idle client's connection
// dies (the server restarts, an admin kills it). pg-pool has already removed that client;
// the event is only a notice. Pools we use get a listener when they have none.
const guarded = new WeakSet<object>();
const ignorePoolError = (): void => {};
function guardPool(pool: pg.Pool): void {
  if (guarded.has(pool)) return;
  guarded.add(pool);
  if (pool.listenerCount('error') === 0) pool.on('error', ignorePoolError);
}

export interface Lease {
  readonly client: pg.ClientBase;
  /** Set once the connection has failed ('error' or 'end' on the client). */
  readonly broken: Error | null;
  /** Resolves when the connection fails; never rejects. */
  readonly whenBroken: Promise<Error>;
  /** Gives the client back (or closes it). `discard`: destroy it rather than reuse it. */
  release(discard: boolean): Promise<void>;
}

/**
 * Takes a connection for one stage. For a pool, a client is checked out; for a connection
 * string, a client is connected (and ended on release); a given client is used as it is,
 * unless another sluice stage is using it or a query is queued on it.
 */
export async function acquire(target: PgTarget, stage: string): Promise<Lease> {
  const kind = checkTarget('target', target);
  const { pg: driver } = await loadPg();
  let client: pg.ClientBase;
  if (kind === 'client') {
    client = target as pg.ClientBase;
    const internals = client as unknown as { _activeQuery?: unknown; _queryQueue?: unknown[]; _ending?: boolean };
    if (inUse.has(client) || internals._activeQuery || (internals._queryQueue?.length ?? 0) > 0) {
      throw new PostgresError(
        `${stage}: the client is busy with another query (an open cursor?); a second query would wait behind it forever — use a pg.Pool or another client`,
      );
    }
    if (internals._ending) throw new PostgresError(`${stage}: the client has been ended`);
  } else {
    try {
      if (kind === 'pool') {
        guardPool(target as pg.Pool);
        client = await (target as pg.Pool).connect();
      } else {
        client = new driver.Client({ connectionString: target as string, application_name: 'sluice' });
        client.on('error', () => {}); // a failed connect also emits 'error'; connect() rejects
        try {
          await (client as pg.Client).connect();
        } catch (error) {
          await (client as pg.Client).end().catch(() => {});
          throw error;
        }
      }
    } catch (error) {
      throw new PostgresError(`${stage}: could not connect to ${describeServer(target)}: ${(error as Error)?.message ?? error}`, error);
    }
  }
  inUse.add(client);

  let broken: Error | null = null;
  let onBroken!: (error: Error) => void;
  const whenBroken = new Promise<Error>((resolve) => {
    onBroken = resolve;
  });
  const onError = (error: Error) => {
    broken ??= error;
    onBroken(broken);
  };
  const onEnd = () => onError(new PostgresError(`${stage}: the connection to ${describeServer(target)} ended`));
  client.on('error', onError);
  client.on('end', onEnd);

  let released = false;
  return {
    client,
    get broken() {
      return broken;
    },
    whenBroken,
    async release(discard) {
      if (released) return;
      released = true;
      client.off('error', onError);
      client.off('end', onEnd);
      inUse.delete(client);
      const dead = discard || broken !== null;
      if (kind === 'pool') {
        // An error argument makes pg-pool remove the client and close its connection.
        (client as pg.PoolClient).release(dead ? (broken ?? new Error('discarded by sluice')) : undefined);
      } else if (kind === 'string') {
        await (client as pg.Client).end().catch(() => {});
      }
      // The caller's own client is not ours to close, whatever happened to it.
    },
  };
}

/**
 * Asks the server to cancel what the client's backend is running (a CancelRequest on a
 * new connection, as psql's Ctrl-C does) and resolves once the server has taken it (it
 * closes that connection) — or failed to connect, in which case nothing more can be done.
 */
export function cancel(client: pg.ClientBase): Promise<void> {
  const c = client as unknown as { processID?: number; secretKey?: number; host?: string; port?: number };
  if (c.processID === undefined || c.secretKey === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const host = c.host ?? 'localhost';
    const port = c.port ?? 5432;
    const socket = host.startsWith('/') ? netConnect(`${host}/.s.PGSQL.${port}`) : netConnect(port, host);
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      const message = Buffer.alloc(16);
      message.writeInt32BE(16, 0);
      message.writeInt32BE(80877102, 4); // the cancel request code
      message.writeInt32BE(c.processID!, 8);
      message.writeInt32BE(c.secretKey!, 12);
      socket.end(message);
    });
  });
}

/** A one-line excerpt of SQL for stage names: `postgres.query(SELECT id, plate FROM v…)`. */
export function sqlExcerpt(sql: string, max = 40): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Sets `statement_timeout` for the client's session and returns how to put the previous
 * value back. One round trip each way (a simple query may hold several statements).
 */
export async function setStatementTimeout(client: pg.ClientBase, ms: number): Promise<() => Promise<void>> {
  const results = (await client.query(`SHOW statement_timeout; SET statement_timeout = ${Math.trunc(ms)}`)) as unknown as pg.QueryResult[];
  const previous = String((results[0].rows[0] as Record<string, unknown>).statement_timeout);
  return async () => {
    await client.query(`SET statement_timeout = ${client.escapeLiteral(previous)}`);
  };
}
