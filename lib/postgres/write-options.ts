/** `postgres.write`'s options: the public interface, and their checks and defaults, resolved once before any stream exists. */
import { checkInteger, checkOneOf, checkOptions, fail, optionNames } from '../core/validate.js';

export interface PostgresWriteOptions {
  /** The table: `'name'` (found on the search_path), `'schema.name'`, or `[schema, name]` for names with dots. Exact names, as in the catalog. */
  table: string | readonly [string, string];
  /**
   * The columns to fill, in row order for array rows. Each must be a column of the table.
   * @default object rows: the first row's keys; array rows: the table's columns in order
   */
  columns?: readonly string[];
  /**
   * `'copy'`: COPY FROM STDIN (fastest); `'insert'`: multi-row INSERT … VALUES (at most
   * 65,535 parameters a statement: rows are split); `'upsert'`: each batch is COPied into
   * a temporary table of the sink's own, then `INSERT … SELECT … ON CONFLICT (key) DO
   * UPDATE` into the table (one round trip, one transaction), so a re-run after a crash
   * writes each row once. The temporary table is dropped when the sink finishes (upsert
   * needs the TEMPORARY privilege on the database, which PUBLIC has by default). With
   * `transaction: 'load'`: `INSERT … SELECT FROM unnest(…) ON CONFLICT` instead (a staging
   * table emptied in every batch would keep each batch's file until the load commits).
   * @default 'copy'
   */
  mode?: 'copy' | 'insert' | 'upsert';
  /**
   * Upsert only: the conflict columns (a unique index must cover them). Within one batch the
   * last row with a key wins.
   * @default the table's primary key
   */
  key?: readonly string[];
  /**
   * Upsert only: `'update'` overwrites the other columns of an existing row; `'nothing'` keeps it.
   * @default 'update'
   */
  onConflict?: 'update' | 'nothing';
  /**
   * Rows per batch (one round trip, one commit).
   * @default 1000 (insert), 5000 (upsert, copy) — see bench/postgres.ts
   */
  batchSize?: number;
  /**
   * `'batch'`: each batch commits on its own (a failure keeps the batches before it);
   * `'load'`: one transaction for everything (all or nothing).
   * @default 'batch'
   */
  transaction?: 'batch' | 'load';
  /**
   * A batch the database refuses: `'fail'` fails the pipeline (with the batch, the row
   * when it can be found, and their source lines); `'reject'` sends the batch's rows to
   * the reject channel and goes on (needs `transaction: 'batch'`).
   * @default 'fail'
   */
  onError?: 'fail' | 'reject';
  /** Rows buffered before the sink, in addition to the batch. @default 16 */
  highWaterMark?: number;
}

/** The option names postgres.write() accepts (an unknown one is a TypeError). */
export const WRITE_OPTIONS = optionNames<PostgresWriteOptions>('postgres.write()', { table: true, columns: true, mode: true, key: true, onConflict: true, batchSize: true, transaction: true, onError: true, highWaterMark: true });

type Mode = NonNullable<PostgresWriteOptions['mode']>;

/** The options checked, with their defaults. */
export interface Resolved {
  schema: string | null;
  table: string;
  columns: readonly string[] | undefined;
  mode: Mode;
  key: readonly string[] | undefined;
  onConflict: 'update' | 'nothing';
  batchSize: number;
  transaction: 'batch' | 'load';
  onError: 'fail' | 'reject';
  highWaterMark: number | undefined;
}

/** Identifiers longer than this are silently truncated by PostgreSQL: refuse them instead. */
const NAME_BYTES = 63;

export function checkName(path: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') fail(path, 'a non-empty name', name);
  if (name.includes('\0')) fail(path, 'a name without NUL characters', name);
  if (Buffer.byteLength(name) > NAME_BYTES) {
    fail(path, `a name of at most ${NAME_BYTES} bytes (PostgreSQL would truncate it, and two long names could become one)`, name);
  }
  return name;
}

function splitTable(table: unknown): { schema: string | null; table: string } {
  if (Array.isArray(table)) {
    if (table.length !== 2) fail('table', "a name, 'schema.name' or [schema, name]", table);
    return { schema: checkName('table[0]', table[0]), table: checkName('table[1]', table[1]) };
  }
  if (typeof table !== 'string') fail('table', "a name, 'schema.name' or [schema, name]", table);
  const parts = table.split('.');
  if (parts.length > 2) fail('table', "a name or 'schema.name' (use [schema, name] for names with dots)", table);
  return parts.length === 2 ? { schema: checkName('table', parts[0]), table: checkName('table', parts[1]) } : { schema: null, table: checkName('table', table) };
}

/** Checks `postgres.write`'s options (before any stream exists) and fills in the defaults. */
export function resolveWriteOptions(options: PostgresWriteOptions): Resolved {
  const o = checkOptions('options', options, WRITE_OPTIONS) as unknown as PostgresWriteOptions;
  const { schema, table } = splitTable(o.table);
  const mode = o.mode === undefined ? 'copy' : checkOneOf('mode', o.mode, ['copy', 'insert', 'upsert'] as const);
  let columns: string[] | undefined;
  if (o.columns !== undefined) {
    if (!Array.isArray(o.columns) || o.columns.length === 0) fail('columns', 'a non-empty array of column names', o.columns);
    columns = o.columns.map((c, i) => checkName(`columns[${i}]`, c));
  }
  let key: string[] | undefined;
  if (o.key !== undefined) {
    if (mode !== 'upsert') fail('key', "given only with mode: 'upsert'", o.key);
    if (!Array.isArray(o.key) || o.key.length === 0) fail('key', 'a non-empty array of column names', o.key);
    key = o.key.map((c, i) => checkName(`key[${i}]`, c));
  }
  const transaction = o.transaction === undefined ? 'batch' : checkOneOf('transaction', o.transaction, ['batch', 'load'] as const);
  const onError = o.onError === undefined ? 'fail' : checkOneOf('onError', o.onError, ['fail', 'reject'] as const);
  if (onError === 'reject' && transaction === 'load') fail('onError', "'fail' with transaction: 'load' (a refused batch ends the load's transaction)", onError);
  return {
    schema,
    table,
    columns,
    mode,
    key,
    onConflict: o.onConflict === undefined ? 'update' : checkOneOf('onConflict', o.onConflict, ['update', 'nothing'] as const),
    batchSize: o.batchSize === undefined ? (mode === 'insert' ? 1_000 : 5_000) : checkInteger('batchSize', o.batchSize, 1),
    transaction,
    onError,
    highWaterMark: o.highWaterMark === undefined ? undefined : checkInteger('highWaterMark', o.highWaterMark, 1),
  };
}
