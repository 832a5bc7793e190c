/**
 * `postgres.split`: a table as key ranges, for running one pipeline on many workers
 * (lib/distributed). `plan(n)` reads the key's `min`/`max` (integer keys) or percentiles
 * (any ordered key) and makes ranges `k >= lo AND k < hi` (the first has no `lo`, the last
 * no `hi`, so together they cover every non-NULL key exactly once); `open(split)` reads one
 * range through `postgres.query`, each row's origin naming the table and its key.
 */
import type pg from 'pg';
import { setOrigin } from '../core/origin.js';
import { RowBatch } from '../core/row-batch.js';
import { checkInteger, checkOneOf, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { acquire, PostgresError, quoteIdent, type PgTarget } from './connection.js';
import { PostgresQueryStage, type PostgresQueryOptions } from './query.js';
import { resolveQueryOptions } from './query-options.js';
import { checkName, resolveWriteOptions } from './write-options.js';

export interface PostgresSplitOptions extends Omit<PostgresQueryOptions, 'rowMode' | 'keyset'> {
  /** The table: `'name'`, `'schema.name'` or `[schema, name]` (exact catalog names). */
  table: string | readonly [string, string];
  /** The key column the ranges are cut on (ordered, not NULL; an index on it makes each range cheap). */
  key: string;
  /** Columns to read. @default every column (`*`) */
  columns?: readonly string[];
  /**
   * How the cuts are planned: `'range'` divides `min..max` of an integer key evenly (one
   * cheap query on an indexed key); `'percentile'` takes the key's percentiles (any ordered
   * type, even ranges on skewed keys, but it sorts the key once).
   * @default 'range' for smallint, integer and bigint keys, 'percentile' otherwise
   */
  by?: 'range' | 'percentile';
}

/** One key range of a table: serialisable (JSON), and all a worker needs to read it. */
export interface PostgresSplit {
  readonly kind: 'postgres';
  /** Stable across plans of the same table and data: the table, key and bounds. */
  readonly id: string;
  readonly table: string;
  readonly key: string;
  readonly index: number;
  readonly count: number;
  /** Lower bound (inclusive) as the server's text, or null for the first range. */
  readonly lo: string | null;
  /** Upper bound (exclusive) as the server's text, or null for the last range. */
  readonly hi: string | null;
}

const SPLIT_OPTIONS = optionNames<PostgresSplitOptions>('postgres.split()', {
  table: true, key: true, columns: true, by: true, batchSize: true, highWaterMark: true, types: true, statementTimeout: true, copy: true,
});

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint']);

/** The query stage with each row's origin set to its table and key. */
class PostgresSplitStage<Row> extends PostgresQueryStage<Row> {
  private position = 0;

  constructor(target: PgTarget, sql: string, params: unknown[], options: PostgresQueryOptions, private readonly name: string, private readonly key: string) {
    super(target, sql, params, resolveQueryOptions(options, params));
  }

  override push(chunk: unknown): boolean {
    if (chunk instanceof RowBatch) for (const row of chunk.rows) this.stamp(row);
    else if (chunk !== null) this.stamp(chunk);
    return super.push(chunk);
  }

  private stamp(row: unknown): void {
    const value = (row as Record<string, unknown>)[this.key];
    setOrigin(row, { source: `${this.name} (${this.key} = ${String(value)})`, line: ++this.position });
  }
}

/** See {@link postgresSplit}. */
export class PostgresSplitSource<Row = Record<string, unknown>> {
  private readonly name: string;
  private readonly sqlTable: string;
  private readonly key: string;
  private readonly select: string;
  private readonly by: 'range' | 'percentile' | undefined;
  private readonly query: PostgresQueryOptions;

  constructor(private readonly target: PgTarget, options: PostgresSplitOptions) {
    const { table, key, columns, by, ...query } = checkOptions('options', options, SPLIT_OPTIONS) as unknown as PostgresSplitOptions;
    const resolved = resolveWriteOptions({ table });
    this.name = resolved.schema === null ? resolved.table : `${resolved.schema}.${resolved.table}`;
    this.sqlTable = resolved.schema === null ? quoteIdent(resolved.table) : `${quoteIdent(resolved.schema)}.${quoteIdent(resolved.table)}`;
    this.key = checkName('key', key);
    if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0)) fail('columns', 'a non-empty array of column names', columns);
    this.select = columns === undefined ? '*' : columns.map((c, i) => quoteIdent(checkName(`columns[${i}]`, c))).join(', ');
    this.by = by === undefined ? undefined : checkOneOf('by', by, ['range', 'percentile'] as const);
    resolveQueryOptions({ ...query, rowMode: 'object' }, []);
    this.query = { ...query, rowMode: 'object' };
  }

  /** Plans at most `n` key ranges (fewer when the key has fewer distinct cut points). */
  async plan(n: number): Promise<PostgresSplit[]> {
    named('postgres.split().plan()', () => checkInteger('n', n, 1));
    const stage = `postgres.split(${this.name})`;
    const lease = await acquire(this.target, stage);
    let cuts: string[];
    try {
      cuts = await this.cuts(lease.client, stage, n);
    } catch (error) {
      if (error instanceof PostgresError || error instanceof TypeError) throw error;
      throw new PostgresError(`${stage}: ${(error as Error).message}`, error);
    } finally {
      await lease.release(false);
    }
    const bounds = [null, ...cuts, null];
    return cuts.concat('').map((_, index) => {
      const lo = bounds[index];
      const hi = bounds[index + 1];
      return { kind: 'postgres', id: `postgres:${this.name}:${this.key}[${lo ?? ''},${hi ?? ''})`, table: this.name, key: this.key, index, count: cuts.length + 1, lo, hi };
    });
  }

  /** The bounds between ranges, rising strictly, all above the key's minimum. */
  private async cuts(client: pg.ClientBase, stage: string, n: number): Promise<string[]> {
    const k = quoteIdent(this.key);
    const { rows } = await client.query<{ nulls: number; type: string | null; lo: string | null; hi: string | null }>(
      `SELECT count(*) FILTER (WHERE ${k} IS NULL)::int AS nulls, pg_typeof(min(${k}))::text AS type, min(${k})::text AS lo, max(${k})::text AS hi FROM ${this.sqlTable}`,
    );
    const { nulls, type, lo, hi } = rows[0];
    if (nulls > 0) throw new PostgresError(`${stage}: ${nulls} row(s) have a NULL ${this.key}, which no key range holds; split on a NOT NULL key`);
    if (lo === null || hi === null || n === 1) return [];
    const integer = type !== null && INTEGER_TYPES.has(type);
    const by = this.by ?? (integer ? 'range' : 'percentile');
    let cuts: string[];
    if (by === 'range') {
      if (!integer) named('postgres.split().plan()', () => fail('by', `'percentile' for a key of type ${type} ('range' needs an integer key)`, by));
      const low = BigInt(lo);
      const span = BigInt(hi) - low + 1n;
      cuts = Array.from({ length: n - 1 }, (_, i) => String(low + (span * BigInt(i + 1)) / BigInt(n)));
    } else {
      const fractions = Array.from({ length: n - 1 }, (_, i) => (i + 1) / n);
      const result = await client.query<{ cuts: string[] }>(
        `SELECT (percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY ${k}))::text[] AS cuts FROM ${this.sqlTable}`,
        [fractions],
      );
      cuts = result.rows[0].cuts;
    }
    // Both come out in key order; equal neighbours and the minimum itself would make empty ranges.
    return cuts.filter((cut, i) => cut !== lo && cut !== cuts[i - 1]);
  }

  /** The rows of one range (object rows), each with its table and key as origin. */
  open(split: PostgresSplit): PostgresQueryStage<Row> {
    if (!split || split.kind !== 'postgres' || split.table !== this.name || split.key !== this.key) {
      named('postgres.split().open()', () => fail('split', `a split of ${this.name} on ${this.key} planned by postgres.split`, split));
    }
    const k = quoteIdent(this.key);
    const where: string[] = [];
    const params: unknown[] = [];
    if (split.lo !== null) where.push(`${k} >= $${params.push(split.lo)}`);
    if (split.hi !== null) where.push(`${k} < $${params.push(split.hi)}`);
    const sql = `SELECT ${this.select} FROM ${this.sqlTable}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${k}`;
    return new PostgresSplitStage<Row>(this.target, sql, params, this.query, this.name, this.key);
  }
}

/**
 * A table as key-range splits for `distributed` runs: `plan(n)` cuts the key into at most
 * `n` ranges (`WHERE k >= lo AND k < hi`) from its min/max or percentiles, and
 * `open(split)` reads one range, ordered by the key. Rows are objects; each row's origin
 * names the table and its key.
 *
 * @param target A pg.Pool (or client, or connection string) — each worker passes its own.
 * @example
 * const source = postgres.split(pool, { table: 'violations', key: 'id' });
 * const splits = await source.plan(16);   // [{ kind: 'postgres', lo: null, hi: '625001', … }, …]
 * await run(source.open(splits[0]), csv.write('part-0.csv'));
 */
export function postgresSplit<Row = Record<string, unknown>>(target: PgTarget, options: PostgresSplitOptions): PostgresSplitSource<Row> {
  return named('postgres.split()', () => new PostgresSplitSource<Row>(target, options));
}
