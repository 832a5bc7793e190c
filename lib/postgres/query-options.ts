/** `postgres.query`'s options: the public interfaces, and their checks and defaults, resolved once before any stream exists. */
import type { TypeParsers, TypesOption } from './types.js';
import { checkInteger, checkOneOf, checkOptions, fail, optionNames } from '../core/validate.js';

export interface KeysetOptions {
  /**
   * The column (or columns) the rows are ordered by; together unique, and present in the
   * query's result. Each page is `SELECT * FROM (sql) … WHERE (key) > (last) ORDER BY key
   * LIMIT batchSize`, with an index on the key a cheap statement of its own.
   */
  key: string | readonly string[];
}

/** The option names postgres.query() keyset accepts (an unknown one is a TypeError). */
export const KEYSET_OPTIONS = optionNames<KeysetOptions>('keyset', { key: true });

export interface PostgresQueryOptions {
  /**
   * Rows per fetch (one round trip). 1,000 measured fastest here (1 M rows × 10 columns:
   * 100 → 312k rows/s, 1,000 → 374k, 10,000 → 292k, with more memory); see bench/postgres.ts.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Rows the stream buffers before it stops fetching.
   * @default batchSize
   */
  highWaterMark?: number;
  /**
   * `'object'`: `{ column: value }` rows; `'array'`: values in column order.
   * @default 'object'
   */
  rowMode?: 'object' | 'array';
  /**
   * How values are converted. `'exact'`: nothing that loses precision or depends on the time
   * zone (int8, numeric, dates, times and json stay the server's text; bool, int2/int4,
   * float and bytea are converted); `'text'`: every value as text; `'pg'`: pg's global
   * `pg.types` parsers; or your own `{ getTypeParser(oid) }`. Set per query: pg's global
   * registry is never changed.
   * @default 'exact'
   */
  types?: TypesOption;
  /**
   * Milliseconds the statement may take: the server's `statement_timeout` for the session
   * (restored afterwards), and for a cursor also a deadline for the whole read, including
   * the time downstream takes between batches (the server does not time a suspended
   * cursor). Fails with a `PostgresError` with code `57014`. 0: none.
   * @default the session's own
   */
  statementTimeout?: number;
  /**
   * Read by keyset pagination instead of a cursor: each batch is a separate short statement,
   * so no transaction or snapshot is held open between batches (a read that takes hours does
   * not hold back vacuum) — at the price of each page seeing the table as it is then.
   */
  keyset?: KeysetOptions;
  /**
   * Read through `COPY (sql) TO STDOUT` instead of a cursor: the fastest path (no fetch
   * round trips), same rows and types. Only for queries without parameters; the whole
   * query runs as one statement (as with a cursor) and the socket is paused while
   * downstream is slow.
   * @default false
   */
  copy?: boolean;
}

/** The option names postgres.query() accepts (an unknown one is a TypeError). */
export const QUERY_OPTIONS = optionNames<PostgresQueryOptions>('postgres.query()', { batchSize: true, highWaterMark: true, rowMode: true, types: true, statementTimeout: true, keyset: true, copy: true });

/** The options checked, with their defaults. */
export type ResolvedQueryOptions = Required<Pick<PostgresQueryOptions, 'batchSize' | 'rowMode' | 'types'>> & PostgresQueryOptions;

/** Checks `postgres.query`'s options (`params` only against `copy`) and fills in the defaults. */
export function resolveQueryOptions(options: PostgresQueryOptions, params: readonly unknown[] | undefined): ResolvedQueryOptions {
  const o = checkOptions('options', options, QUERY_OPTIONS) as PostgresQueryOptions;
  const batchSize = o.batchSize === undefined ? 1_000 : checkInteger('batchSize', o.batchSize, 1);
  const highWaterMark = o.highWaterMark === undefined ? batchSize : checkInteger('highWaterMark', o.highWaterMark, 1);
  const rowMode = o.rowMode === undefined ? 'object' : checkOneOf('rowMode', o.rowMode, ['object', 'array'] as const);
  let types: TypesOption = 'exact';
  if (o.types !== undefined) {
    if (typeof o.types === 'object' && o.types !== null && typeof (o.types as TypeParsers).getTypeParser === 'function') types = o.types;
    else types = checkOneOf('types', o.types, ['exact', 'text', 'pg'] as const);
  }
  if (o.statementTimeout !== undefined) checkInteger('statementTimeout', o.statementTimeout, 0);
  if (o.copy !== undefined && typeof o.copy !== 'boolean') fail('copy', 'a boolean', o.copy);
  if (o.copy && params !== undefined && params.length > 0) fail('params', 'empty with copy: true (COPY takes no parameters)', params);
  if (o.copy && o.keyset !== undefined) fail('copy', 'false with keyset', o.copy);
  if (o.keyset !== undefined) {
    const keyset = checkOptions('keyset', o.keyset, KEYSET_OPTIONS) as unknown as KeysetOptions;
    const keys = typeof keyset.key === 'string' ? [keyset.key] : keyset.key;
    if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
      fail('keyset.key', 'a column name or a non-empty array of them', keyset.key);
    }
  }
  return {
    ...o,
    batchSize,
    highWaterMark,
    rowMode,
    types,
  };
}
