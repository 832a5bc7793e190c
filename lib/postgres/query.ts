/**
 * `postgres.query`: the rows of a query as a Readable, fetched in batches on one
 * connection while downstream asks for more.
 *
 * Invariants:
 * - nothing is fetched until the stream is first read; then a client is taken and kept for
 *   the whole read, and given back exactly once — when the rows end, on an error, or when
 *   the stream is destroyed early — after the cursor is closed (or the running statement
 *   cancelled on the server); a client whose connection failed or whose statement was
 *   cancelled is destroyed, not given back;
 * - at most one fetch is in flight, and a fetch starts only when the buffer is below the
 *   high-water mark (= batchSize), so the stage holds under two batches however slow the
 *   consumer: while it stalls, the server produces no further rows;
 * - the stream ends only after the client is back, so the pool is usable when `run` resolves.
 *
 * This file is the stage: the client, the deadline, fetching and giving the client back. Its
 * parts sit beside it: query-options (the options, checked once) and the readers behind
 * reader — cursor-reader, keyset-reader and copy-reader.
 */
import type { TransformOptions } from 'node:stream';
import { CopyReader } from './copy-reader.js';
import { CursorReader } from './cursor-reader.js';
import { KeysetReader } from './keyset-reader.js';
import { resolveQueryOptions, type KeysetOptions, type PostgresQueryOptions, type ResolvedQueryOptions } from './query-options.js';
import { planRows } from './plan-rows.js';
import type { Reader } from './reader.js';
import { resolveTypes, type TypeParsers } from './types.js';
import { acquire, cancel, checkTarget, PostgresError, setStatementTimeout, sqlExcerpt, type Lease, type PgTarget } from './connection.js';
import { RowBatch } from '../core/row-batch.js';
import { Stage } from '../core/stage.js';
import { fail, invalid, named } from '../core/validate.js';

// Public: lib/index.ts exports them from here.
export type { KeysetOptions, PostgresQueryOptions };

/** Errors after which the connection is gone (terminated backend, lost socket). */
function isFatal(error: unknown): boolean {
  const e = error as { severity?: string; code?: string };
  return e?.severity === 'FATAL' || e?.severity === 'PANIC' || /^(08|57P)/.test(e?.code ?? '');
}

/** The PostgreSQL source; see {@link postgresQuery}. Emits `'batch'` (row count) after each fetch. */
export class PostgresQueryStage<Row = Record<string, unknown>> extends Stage<never, Row> {
  /** Rows received from the server so far. */
  fetched = 0;
  /** Fetches (round trips) completed. */
  batches = 0;
  private lease: Lease | null = null;
  private reader: Reader | null = null;
  private starting: Promise<void> | null = null;
  private fetching = false;
  private ended = false;
  private restoreTimeout: (() => Promise<void>) | null = null;
  private deadline: NodeJS.Timeout | undefined;
  private cleanup: Promise<void> | null = null;
  private readonly types: TypeParsers | undefined;
  /** Whether each fetch's rows go out as one {@link RowBatch} (see `batchRows()`). */
  private batched = false;
  /** The planner's estimate of the row count, once asked for (see `estimateRows()`) and known. */
  rowsEstimate: number | undefined;
  private estimate = false;

  constructor(
    private readonly target: PgTarget,
    private readonly sql: string,
    private readonly params: unknown[] | undefined,
    private readonly options: ResolvedQueryOptions,
  ) {
    // A source: the writable side is born finished, so the Transform never flushes or ends it.
    super(`postgres.query(${sqlExcerpt(sql)})`, options.highWaterMark ?? options.batchSize, { writable: false } as TransformOptions);
    this.types = resolveTypes(options.types);
  }

  /**
   * Internal (run()'s progress): before the cursor opens, ask the planner how many rows to
   * expect — one `EXPLAIN` on the same connection. Not on a caller's own client, which may
   * be inside a transaction that a failing `EXPLAIN` would abort.
   */
  estimateRows(): void {
    this.estimate = checkTarget('target', this.target) !== 'client';
  }

  /** True while a batch is being fetched. */
  get busy(): boolean {
    return this.fetching;
  }

  override _read(): void {
    if (this.fetching || this.ended) return;
    if (!this.starting) this.starting = this.start();
    else if (this.reader) this.fetch();
  }

  private async start(): Promise<void> {
    this.fetching = true;
    try {
      this.lease = await acquire(this.target, this.stage);
      if (this.destroyed) return; // _destroy waits for us, then gives the client back
      const { client } = this.lease;
      void this.lease.whenBroken.then((error) => {
        if (!this.ended) this.destroy(this.failure(error));
      });
      const timeout = this.options.statementTimeout;
      if (timeout !== undefined && timeout > 0) {
        this.restoreTimeout = await setStatementTimeout(client, timeout);
        if (this.destroyed) return;
        // The server enforces statement_timeout only while it works: a cursor suspended
        // while the consumer is slow is not timed there. So the read has a deadline here too.
        this.deadline = setTimeout(() => {
          this.destroy(new PostgresError(`${this.stage} failed after ${this.fetched} row(s): canceling statement due to statement timeout (statementTimeout: ${timeout} ms; the read was still open)`, undefined, { code: '57014' }));
        }, timeout);
      }
      if (this.estimate) {
        this.rowsEstimate = await planRows(client, this.sql, this.params);
        if (this.destroyed) return;
      }
      const { keyset, rowMode, copy } = this.options;
      if (copy) {
        const reader = new CopyReader(client, this.sql, rowMode, this.types, this.options.batchSize);
        this.reader = reader;
        await reader.start();
        if (this.destroyed) return;
      } else {
        this.reader = keyset
          ? new KeysetReader(client, this.sql, this.params ?? [], rowMode, this.types, keyset.key)
          : new CursorReader(client, this.sql, this.params, rowMode, this.types, (error) => this.destroy(this.failure(error)));
      }
    } catch (error) {
      this.destroy(this.failure(error));
      return;
    } finally {
      this.fetching = false;
    }
    this.fetch();
  }

  /**
   * Internal (lib/pipeline/batch-rows.ts): from now on, pushes each fetch's rows as one
   * {@link RowBatch}; the output buffer then counts fetches: `highWaterMark` rows, rounded
   * up to whole fetches (one by default, as before).
   */
  batchRows(): boolean {
    this.batched = true;
    const state = (this as unknown as { _readableState: { highWaterMark: number } })._readableState;
    state.highWaterMark = Math.max(1, Math.ceil(state.highWaterMark / this.options.batchSize));
    return true;
  }

  private fetch(): void {
    this.fetching = true;
    this.reader!.read(this.options.batchSize).then(
      ({ rows, done }) => {
        this.fetching = false;
        if (this.destroyed) return;
        this.batches++;
        this.fetched += rows.length;
        this.stats.in += rows.length;
        this.stats.out += rows.length;
        if (!this.batched) for (const row of rows) this.push(row);
        else if (rows.length > 0) this.push(new RowBatch(rows));
        this.emit('batch', rows.length);
        if (done) this.finish();
      },
      (error: unknown) => {
        this.fetching = false;
        this.destroy(this.failure(error));
      },
    );
  }

  /** The last batch is in: give the client back, then end (so the pool is free at 'end'). */
  private finish(): void {
    this.ended = true;
    this.teardown().then(
      () => {
        if (!this.destroyed) this.push(null);
      },
      (error: unknown) => this.destroy(this.failure(error)),
    );
  }

  private failure(error: unknown): Error {
    if (error instanceof PostgresError && error.message.startsWith(this.stage)) return error;
    const message = (error as Error)?.message ?? String(error);
    const after = this.fetched > 0 ? ` after ${this.fetched} row(s)` : '';
    return new PostgresError(`${this.stage} failed${after}: ${message}`, error);
  }

  /** Closes the cursor (cancelling a running statement) and gives the client back, once. */
  private teardown(error?: Error | null): Promise<void> {
    clearTimeout(this.deadline);
    this.cleanup ??= (async () => {
      const lease = this.lease;
      if (!lease) return;
      let discard = isFatal(error?.cause ?? error);
      if (!discard && !lease.broken && this.reader && !this.ended) {
        // Stopped early. A statement still running on the server is cancelled there (a
        // client-side close would wait for it to finish); the portal is closed either way.
        const running = this.reader.executing();
        const closed = Promise.race([this.reader.close().then(() => true, () => false), lease.whenBroken.then(() => false)]);
        if (running) {
          await cancel(lease.client);
          // A cancel that arrives late could hit the next user's query: never reuse.
          discard = true;
        }
        if (!(await closed)) discard = true;
      }
      // Also after a cancel: a caller's own client is kept, so its setting must come back.
      if (this.restoreTimeout && !lease.broken) {
        try {
          await this.restoreTimeout();
        } catch {
          discard = true;
        }
      }
      await lease.release(discard);
    })();
    return this.cleanup;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const starting = this.starting;
    (async () => {
      await starting;
      await this.teardown(error);
    })().then(
      () => callback(error),
      (cleanupError: unknown) => callback(error ?? (cleanupError as Error)),
    );
  }
}

/**
 * The rows of a query, streamed from PostgreSQL through a server-side cursor: `batchSize`
 * rows per round trip, fetched only while downstream keeps up. The client (from a pool, a
 * connection string, or the one you pass) is held for the read and given back exactly once
 * — at the end, on an error, or when the stream is stopped early (`take(n)`, `break`, an
 * `AbortSignal` given to `run`), after the cursor is closed; a statement still running is
 * cancelled on the server. Values keep their precision (see `types`).
 *
 * Not for PgBouncer in transaction pooling mode: a cursor needs its connection for the
 * whole read ("portal does not exist"); use session pooling, or `keyset`.
 *
 * @param target a `pg.Pool` (a client is checked out per read), a connected `pg.Client`
 *   (used as it is; one sluice read at a time), or a connection string.
 * @example
 * await run(
 *   postgres.query(pool, 'SELECT id, plate, state FROM violations WHERE year = $1', [2018]),
 *   filter((row) => row.state === 'NJ'),
 *   csv.write('nj.csv'),
 * );
 */
export function postgresQuery<Row = unknown[]>(
  target: PgTarget,
  sql: string,
  params: readonly unknown[] | undefined,
  options: PostgresQueryOptions & { rowMode: 'array' },
): PostgresQueryStage<Row>;
export function postgresQuery<Row = Record<string, unknown>>(target: PgTarget, sql: string, params?: readonly unknown[], options?: PostgresQueryOptions): PostgresQueryStage<Row>;
export function postgresQuery<Row = Record<string, unknown>>(
  target: PgTarget,
  sql: string,
  params?: readonly unknown[],
  options: PostgresQueryOptions = {},
): PostgresQueryStage<Row> {
  return named('postgres.query()', () => {
    checkTarget('target', target);
    if (typeof sql !== 'string' || sql.trim() === '') {
      // A pg QueryStream or Cursor would have pool.query never resolve and leak its client.
      if (sql && typeof (sql as { submit?: unknown }).submit === 'function') {
        throw invalid('Expected `sql` to be SQL text, got a submittable query (a QueryStream or Cursor); pass the SQL and its parameters instead');
      }
      fail('sql', 'SQL text', sql);
    }
    if (params !== undefined && !Array.isArray(params)) fail('params', 'an array', params);
    return new PostgresQueryStage<Row>(target, sql, params === undefined ? undefined : [...params], resolveQueryOptions(options, params));
  });
}
