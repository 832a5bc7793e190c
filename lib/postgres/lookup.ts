
import { acquire, cancel, checkTarget, PostgresError, sqlExcerpt, type PgTarget } from './connection.js';
import { checkOptions, fail, named, optionNames } from '../core/validate.js';
import type { LookupFunction } from '../join/index.js';

export interface PostgresLookupOptions {
  /**
   * The result column holding the key, matched to the keys asked for by their text (so a
   * CSV's `'21'` finds an integer column's `21`).
   * @default the query's first column
   */
  key?: string;
}

const LOOKUP_OPTIONS = optionNames<PostgresLookupOptions>('postgres.lookup()', { key: true });

/**
 * A lookup function for `lookup()` over PostgreSQL: `sql` is run once per batch with the
 * batch's distinct keys as `$1` (a text array: write `WHERE code = ANY($1::int[])` for a
 * typed column), on one connection taken from `target` for the call and given back at
 * once; each result row is the value for its key (extra rows for a key: the first wins).
 * A call that times out or is aborted cancels its statement and discards the connection.
 *
 * @example
 * const fines = postgres.lookup(pool, 'SELECT code, fine FROM violation_codes WHERE code = ANY($1::int[])');
 * await run(csv.read('tickets.csv', { rows: 'objects' }), lookup(fines, { on: 'Violation Code', batchSize: 500 }), csv.write('with-fines.csv'));
 */
export function postgresLookup<V = Record<string, unknown>>(target: PgTarget, sql: string, options: PostgresLookupOptions = {}): LookupFunction<V> {
  named('postgres.lookup()', () => {
    checkTarget('target', target);
    if (typeof sql !== 'string' || sql.trim() === '') fail('sql', 'a query with $1 for the keys', sql);
    checkOptions('options', options, LOOKUP_OPTIONS);
    if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) fail('key', 'a column name', options.key);
  });
  const stage = `postgres.lookup(${sqlExcerpt(sql)})`;
  const fn: LookupFunction<V> = async (keys, { signal }) => {
    const lease = await acquire(target, stage);
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      void cancel(lease.client);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await lease.client.query<Record<string, unknown>>(sql, [keys.map((k) => (k instanceof Date ? k.toISOString() : String(k)))]);
      const column = options.key ?? result.fields[0]?.name;
      if (column === undefined || !result.fields.some((f) => f.name === column)) {
        throw new PostgresError(`${stage}: the result has no column ${JSON.stringify(column ?? '')} to match the keys by`);
      }
      const byText = new Map<string, Record<string, unknown>>();
      for (const row of result.rows) {
        const text = row[column] instanceof Date ? (row[column] as Date).toISOString() : String(row[column]);
        if (!byText.has(text)) byText.set(text, row);
      }
      return keys.map((k) => [k, (byText.get(k instanceof Date ? k.toISOString() : String(k)) ?? null) as V | null] as const);
    } catch (error) {
      if (error instanceof PostgresError) throw error;
      throw new PostgresError(`${stage}: ${(error as Error).message}`, error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      await lease.release(aborted);
    }
  };
  return fn;
}

