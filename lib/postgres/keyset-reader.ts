import type pg from 'pg';
import type { Batch, Reader } from './reader.js';
import type { TypeParsers } from './types.js';
import { PostgresError, quoteIdent } from './connection.js';

/** Keyset pagination: each batch its own `… WHERE (key) > (last) ORDER BY key LIMIT n`. */
export class KeysetReader implements Reader {
  private last: unknown[] | null = null;
  private inFlight: Promise<unknown> | null = null;
  private readonly keys: readonly string[];

  constructor(
    private readonly client: pg.ClientBase,
    private readonly sql: string,
    private readonly params: unknown[],
    private readonly rowMode: 'object' | 'array',
    private readonly types: TypeParsers | undefined,
    key: string | readonly string[],
  ) {
    this.keys = typeof key === 'string' ? [key] : key;
  }

  async read(count: number): Promise<Batch> {
    const columns = this.keys.map((k) => `sluice_keyset.${quoteIdent(k)}`).join(', ');
    const n = this.params.length;
    const where = this.last ? `WHERE (${columns}) > (${this.keys.map((_, i) => `$${n + i + 1}`).join(', ')})` : '';
    const text = `SELECT * FROM (${this.sql}\n) AS sluice_keyset ${where} ORDER BY ${columns} LIMIT ${count}`;
    const query = this.client.query({
      text,
      values: this.last ? [...this.params, ...this.last] : this.params,
      ...(this.rowMode === 'array' ? { rowMode: 'array' } : {}),
      ...(this.types ? { types: this.types } : {}),
    } as pg.QueryConfig);
    this.inFlight = query;
    let result: pg.QueryResult;
    try {
      result = await query;
    } finally {
      this.inFlight = null;
    }
    const rows = result.rows as unknown[];
    if (rows.length > 0) {
      const lastRow = rows[rows.length - 1] as Record<string, unknown> & unknown[];
      this.last = this.keys.map((key) => {
        const index = result.fields.findIndex((f) => f.name === key);
        if (index < 0) throw new PostgresError(`keyset key \`${key}\` is not a column of the query's result`);
        return this.rowMode === 'array' ? lastRow[index] : lastRow[key];
      });
    }
    return { rows, done: rows.length < count };
  }

  executing(): boolean {
    return this.inFlight !== null;
  }

  async close(): Promise<void> {
    await this.inFlight?.catch(() => {});
  }
}
