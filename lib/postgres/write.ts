/**
 * `postgres.write`: rows into a table in batches — COPY, multi-row INSERT or upsert.
 *
 * Invariants:
 * - table and column names are checked against the catalog before any row is sent (each
 *   must be exactly a real name) and then quoted; values only ever travel as parameters
 *   or COPY data;
 * - a batch is atomic: it commits whole or not at all (one statement, or a transaction
 *   around several); with `transaction: 'load'` the whole load is;
 * - one batch is written while the next fills (the server works while we encode); when
 *   that one is full too, the write callback waits, so a slow database slows the source:
 *   at most two batches plus the high-water mark are held;
 * - the client is given back exactly once, after the last commit or after the rollback.
 *
 * It is a Stage (so `run()` wires its rejects and counts): its readable side carries no
 * rows and is not in object mode; `run()` takes `written` from it (`writtenRows`: the
 * rows committed) and puts no counting stage before it.
 *
 * This file is the stage: batching, transactions, and giving the client back. Its parts sit
 * beside it: write-options (the options, checked once), table-plan (the table and columns
 * from the catalog), write-encode (a batch made ready to send), write-sql (the statements),
 * copy-in (COPY FROM STDIN), failing-row (which row of a refused batch is at fault) and
 * write-error.
 */
import type { TransformCallback, TransformOptions } from 'node:stream';
import type pg from 'pg';
import { originOf } from '../core/origin.js';
import { CopyIn } from './copy-in.js';
import { findFailingRow } from './failing-row.js';
import { planTable, type Plan } from './table-plan.js';
import { columnArrays, dedupe, encodeBatch, type Encoded } from './write-encode.js';
import { PostgresWriteError } from './write-error.js';
import { resolveWriteOptions, type PostgresWriteOptions, type Resolved } from './write-options.js';
import { copySql, insertSql, upsertUnnestSql } from './write-sql.js';
import { acquire, cancel, checkTarget, PostgresError, type Lease, type PgTarget } from './connection.js';
import { sendReject } from '../core/reject.js';
import { Stage, writtenRows } from '../core/stage.js';
import { named } from '../core/validate.js';

// Public: lib/index.ts exports them from here.
export { PostgresWriteError, type PostgresWriteOptions };

/** The PostgreSQL sink; see {@link postgresWrite}. */
export class PostgresWriteSink extends Stage<unknown, never> {
  /** Batches committed (with `transaction: 'load'`, all of them at the end). */
  batches = 0;
  private lease: Lease | null = null;
  private plan: Plan | null = null;
  private pending: unknown[] = [];
  /** 1-based number of the first pending row. */
  private firstPending = 1;
  private batchNumber = 0;
  private inTransaction = false;
  /** Rows written in the open 'load' transaction, not yet committed. */
  private uncommitted = 0;
  private running: Promise<unknown> | null = null;
  /** The batch being written (and the ones queued behind it), settled when all are done. */
  private writing: Promise<void> | null = null;
  private cleanup: Promise<void> | null = null;
  private cancelled = false;
  private closing = false;
  /** Upsert: the temporary table created on the leased client, to drop before giving it back. */
  private staging: string | null = null;

  constructor(private readonly target: PgTarget, private readonly o: Resolved) {
    super(`postgres.write(${o.schema === null ? o.table : `${o.schema}.${o.table}`})`, o.highWaterMark, { readableObjectMode: false } as TransformOptions);
  }

  /** Rows committed so far. */
  get rows(): number {
    return this.stats.out;
  }

  /** For `run()`: the rows committed (see `writtenRows`), so no counting stage sits before the sink. */
  [writtenRows](): number {
    return this.stats.out;
  }

  override _transform(row: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    this.pending.push(row);
    if (this.pending.length < this.o.batchSize) {
      callback();
      return;
    }
    const previous = this.startBatch();
    // The next batch fills while this one is written (the server works while we encode);
    // once it is full too, the callback waits: at most two batches are held.
    if (previous) previous.then(() => callback(), () => callback());
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) this.startBatch();
    (async () => {
      await this.writing;
      if (this.inTransaction) {
        await this.run('COMMIT');
        this.inTransaction = false;
        this.stats.out += this.uncommitted;
        this.uncommitted = 0;
      }
      await this.teardown(false);
    })().then(() => callback(), (error: Error) => callback(error));
  }

  /**
   * Takes the pending rows as a batch and writes it after the batch before it (encoding it
   * now, while that one is on the server). Returns the batch before it, if still running.
   * A batch that fails destroys the sink with its error.
   */
  private startBatch(): Promise<void> | null {
    const rows = this.pending;
    const first = this.firstPending;
    this.pending = [];
    this.firstPending += rows.length;
    const batch = ++this.batchNumber;
    const previous = this.writing;
    const encoded = this.plan ? encodeBatch(this.plan, this.o.mode, this.stage, batch, first, rows) : null;
    const current = (async () => {
      if (previous) await previous;
      await this.writeBatch(batch, first, rows, encoded);
    })();
    this.writing = current;
    current.catch((error: Error) => {
      if (!this.destroyed) this.destroy(error);
    });
    return previous;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.teardown(true).then(
      () => callback(error),
      (cleanupError: unknown) => callback(error ?? (cleanupError as Error)),
    );
  }

  /** A statement on the leased client, remembered so that destroy can cancel it. */
  private run<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>> {
    // Once the sink is being torn down, a batch still on its way sends nothing more.
    if (this.closing) return Promise.reject(new PostgresError(`${this.stage} was destroyed`));
    const query = this.lease!.client.query<R>(sql as string, values);
    this.running = query;
    const settle = () => {
      if (this.running === query) this.running = null;
    };
    query.then(settle, settle);
    return query;
  }

  private async prepare(first: unknown): Promise<Plan> {
    this.lease = await acquire(this.target, this.stage);
    void this.lease.whenBroken.then((error) => {
      if (!this.cleanup) this.destroy(new PostgresError(`${this.stage}: ${error.message}`, error));
    });
    const plan = await planTable(this.run.bind(this), this.stage, this.o, first);
    this.staging = plan.staging;
    return plan;
  }

  private async writeBatch(batch: number, first: number, rows: unknown[], encoded: Encoded | PostgresWriteError | null): Promise<void> {
    if (this.destroyed) return;
    const plan = (this.plan ??= await this.prepare(rows[0]));
    const values = encoded ?? encodeBatch(plan, this.o.mode, this.stage, batch, first, rows);
    if (values instanceof PostgresWriteError) throw values;
    const load = this.o.transaction === 'load';
    try {
      if (load && !this.inTransaction) {
        await this.run('BEGIN');
        this.inTransaction = true;
      }
      if (load) await this.run('SAVEPOINT sluice_batch');
      await this.send(plan, values, !load);
      if (load) this.uncommitted += rows.length;
      else {
        this.stats.out += rows.length;
        this.batches++;
      }
    } catch (error) {
      if (this.cancelled || this.lease?.broken) throw error;
      let failing: number | undefined;
      let rolledBack: string;
      if (load) {
        await this.run('ROLLBACK TO SAVEPOINT sluice_batch');
        failing = await findFailingRow(this.run.bind(this), plan, this.o, rows, error, this.inTransaction).catch(() => undefined);
        await this.run('ROLLBACK');
        this.inTransaction = false;
        rolledBack = `the whole load was rolled back (transaction: 'load')`;
      } else {
        if (this.inTransaction) {
          await this.run('ROLLBACK');
          this.inTransaction = false;
        }
        failing = await findFailingRow(this.run.bind(this), plan, this.o, rows, error, this.inTransaction).catch(() => undefined);
        rolledBack = `none of its rows were written${committedBefore(batch, this.batches)}`;
      }
      const failure = new PostgresWriteError(this.stage, batch, first, rows, failing, rolledBack, error);
      if (this.o.onError === 'reject') {
        await this.reject(rows, first, failure);
        return;
      }
      throw failure;
    }
  }

  /** Sends one batch: one statement, or a transaction around several. */
  private async send(plan: Plan, values: Encoded, ownTransaction: boolean): Promise<void> {
    if (Buffer.isBuffer(values)) {
      await this.copy(plan, values);
      return;
    }
    if (this.o.mode === 'upsert') {
      await this.run(upsertUnnestSql(plan, this.o.onConflict), columnArrays(plan, dedupe(plan, values)));
      return;
    }
    const statements = Math.ceil(values.length / plan.rowsPerInsert);
    const wrap = ownTransaction && statements > 1;
    if (wrap) {
      await this.run('BEGIN');
      this.inTransaction = true;
    }
    for (let i = 0; i < values.length; i += plan.rowsPerInsert) {
      const chunk = values.slice(i, i + plan.rowsPerInsert);
      await this.run(insertSql(plan, chunk.length), chunk.flat());
    }
    if (wrap) {
      await this.run('COMMIT');
      this.inTransaction = false;
    }
  }

  private copy(plan: Plan, data: Buffer): Promise<void> {
    if (this.closing) return Promise.reject(new PostgresError(`${this.stage} was destroyed`));
    const sql = copySql(plan, this.o.onConflict);
    const query = new Promise<void>((resolve, reject) => {
      this.lease!.client.query(new CopyIn(sql, data, (error) => (error ? reject(error) : resolve())) as never);
    });
    this.running = query;
    const settle = () => {
      if (this.running === query) this.running = null;
    };
    query.then(settle, settle);
    return query;
  }

  private async reject(rows: unknown[], first: number, failure: PostgresWriteError): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      this.stats.rejected++;
      await new Promise<void>((resolve, reject) => {
        sendReject(this, { stage: this.stage, reason: failure.message, error: failure, row: rows[i], index: first + i, origin: originOf(rows[i]) }, (error) =>
          error ? reject(error) : resolve(),
        );
      });
    }
  }

  /** Rolls back what is open (cancelling a running statement) and gives the client back, once. */
  private teardown(destroyed: boolean): Promise<void> {
    this.cleanup ??= (async () => {
      this.closing = true;
      const lease = this.lease;
      let discard = lease?.broken !== null;
      if (lease && destroyed && !discard && this.running) {
        this.cancelled = true;
        const settled = Promise.race([this.running.then(() => true, () => true), lease.whenBroken.then(() => false)]);
        await cancel(lease.client);
        discard = true; // a late cancel must not hit the next user's query
        if (!(await settled)) discard = true;
      }
      // A batch on its way stops at its next statement (run() refuses once closing);
      // one still preparing may yet take a client, which is then given back below.
      await this.writing?.catch(() => {});
      if (!lease && !this.lease) return;
      if (!lease) discard = true;
      const held = this.lease!;
      if (this.inTransaction && !held.broken) {
        try {
          await Promise.race([held.client.query('ROLLBACK'), held.whenBroken.then((error) => Promise.reject(error))]);
        } catch {
          discard = true;
        }
        this.inTransaction = false;
      }
      // A session that outlives the sink (pooled, or the caller's own client) must not keep
      // our temporary table. (A discarded one would drop it as it closes.)
      if (this.staging && !held.broken) {
        try {
          await Promise.race([held.client.query(`DROP TABLE IF EXISTS ${this.staging}`), held.whenBroken.then((error) => Promise.reject(error))]);
        } catch {
          discard = true;
        }
      }
      await held.release(discard);
    })();
    return this.cleanup;
  }
}

/**
 * Writes rows into a table in batches, each batch committed on its own (or the whole load
 * in one transaction): COPY (the default and fastest), multi-row INSERT, or upsert. Names
 * are checked against the table before anything is sent; a refused batch leaves no row
 * behind and fails with an error naming the batch, the row and its source line — or,
 * with `onError: 'reject'`, its rows go to the reject channel.
 *
 * @param target a `pg.Pool`, a connected `pg.Client`, or a connection string.
 * @example
 * await run(csv.read('violations.csv', { rows: 'objects' }), postgres.write(pool, { table: 'violations' }));
 * @example
 * postgres.write(pool, { table: 'public.users', mode: 'upsert', key: ['id'], batchSize: 5000 })
 */
export function postgresWrite(target: PgTarget, options: PostgresWriteOptions): PostgresWriteSink {
  return named('postgres.write()', () => {
    checkTarget('target', target);
    return new PostgresWriteSink(target, resolveWriteOptions(options));
  });
}

/** " (batches 1–3 are committed)", " (batch 1 is committed)", or, after rejected batches, a count. */
function committedBefore(batch: number, committed: number): string {
  if (committed === 0) return '';
  if (committed < batch - 1) return ` (${committed} earlier batch${committed === 1 ? ' is' : 'es are'} committed)`;
  return committed === 1 ? ' (batch 1 is committed)' : ` (batches 1–${committed} are committed)`;
}
