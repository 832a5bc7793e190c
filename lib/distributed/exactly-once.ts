/**
 * Effectively-once sinks: a split's rows and its done-marker commit in one transaction on
 * one client, so a redelivered split (a worker killed, or a "zombie" whose lock expired and
 * that still runs) never writes twice. The marker is inserted first: a second delivery of
 * the same split blocks on the marker's key until the first commits (then it finds the
 * marker and is acknowledged without writing) or rolls back (then it runs the split whole).
 */
import type pg from 'pg';
import { checkOptions, fail, optionNames } from '../core/validate.js';

export interface ExactlyOnceOptions {
  /** The pool whose transactions hold each split's rows and done-marker. */
  pool: pg.Pool;
  /**
   * The done-marker table (`job text, split text, rows bigint, rejected bigint, attempt int,
   * done_at timestamptz`, primary key `(job, split)`: rows written, rows rejected and the
   * delivery that committed, per split), created if absent; `'schema.name'` or a name on the search_path.
   * @default 'sluice_split_done'
   */
  markers?: string;
}

export interface ExactlyOnce {
  readonly pool: pg.Pool;
  /** The marker table, quoted for SQL. */
  readonly table: string;
}

const EXACTLY_ONCE_OPTIONS = optionNames<ExactlyOnceOptions>('exactlyOnce', { pool: true, markers: true });

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function resolveExactlyOnce(value: unknown): ExactlyOnce | null {
  if (value === undefined) return null;
  const o = checkOptions('exactlyOnce', value, EXACTLY_ONCE_OPTIONS) as unknown as ExactlyOnceOptions;
  const pool = o.pool as pg.Pool & { totalCount?: unknown };
  if (!pool || typeof pool.connect !== 'function' || !('totalCount' in pool)) fail('exactlyOnce.pool', 'a pg.Pool', o.pool);
  const markers = o.markers ?? 'sluice_split_done';
  if (typeof markers !== 'string' || markers === '' || markers.split('.').length > 2) fail('exactlyOnce.markers', "a table name or 'schema.name'", markers);
  return { pool, table: markers.split('.').map(quote).join('.') };
}

/** Creates the marker table if absent (several workers may race to it: the loser's error is ignored). */
export async function createMarkers(once: ExactlyOnce): Promise<void> {
  try {
    await once.pool.query(`CREATE TABLE IF NOT EXISTS ${once.table} (job text NOT NULL, split text NOT NULL, rows bigint, rejected bigint, attempt int, done_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (job, split))`);
  } catch (error) {
    if (!['23505', '42P07'].includes((error as { code?: string }).code ?? '')) throw error;
  }
}

/**
 * Runs `body` inside a transaction that first claims the split's marker. Resolves with
 * null (nothing run) when the marker exists; otherwise with body's result, after
 * `beforeCommit` (e.g. the queue job's completion) and the commit. Any failure rolls the
 * whole split back. The client is destroyed rather than reused when the rollback fails.
 */
export async function inSplitTransaction<T extends { written: number; rejected: number }>(
  once: ExactlyOnce,
  job: string,
  split: string,
  attempt: number,
  body: (client: pg.PoolClient) => Promise<T>,
  beforeCommit: (client: pg.PoolClient, result: T | null) => Promise<void>,
): Promise<T | null> {
  const client = await once.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const claimed = await client.query(`INSERT INTO ${once.table} (job, split) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [job, split]);
    if (claimed.rowCount === 0) {
      await beforeCommit(client, null);
      await client.query('COMMIT');
      return null;
    }
    const result = await body(client);
    await client.query(`UPDATE ${once.table} SET rows = $3, rejected = $4, attempt = $5 WHERE job = $1 AND split = $2`, [job, split, result.written, result.rejected, attempt]);
    await beforeCommit(client, result);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw error;
  } finally {
    client.release(broken);
  }
}

/** What a job's done-markers say: splits committed, rows written and rejected, deliveries they took. */
export interface JobProgress {
  readonly splits: number;
  readonly rows: number;
  readonly rejected: number;
  /** Deliveries of the committed splits (1 per split unless some were redelivered). */
  readonly attempts: number;
}

export async function markerTotals(once: ExactlyOnce, job: string): Promise<JobProgress> {
  const { rows } = await once.pool.query<{ splits: string; rows: string | null; rejected: string | null; attempts: string | null }>(
    `SELECT count(*) AS splits, sum(rows) AS rows, sum(rejected) AS rejected, sum(attempt) AS attempts FROM ${once.table} WHERE job = $1`,
    [job],
  );
  const r = rows[0];
  return { splits: Number(r.splits), rows: Number(r.rows ?? 0), rejected: Number(r.rejected ?? 0), attempts: Number(r.attempts ?? 0) };
}
