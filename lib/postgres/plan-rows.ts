import type pg from 'pg';

/**
 * The planner's estimate of how many rows `sql` returns (`EXPLAIN (FORMAT JSON)`: planned,
 * not run), or undefined when the statement cannot be explained. For progress reports only:
 * a failure here is not the query's failure (the query itself will say what is wrong).
 */
export async function planRows(client: pg.ClientBase, sql: string, params: unknown[] | undefined): Promise<number | undefined> {
  try {
    const result = await client.query<{ 'QUERY PLAN': [{ Plan?: { 'Plan Rows'?: unknown } }] }>({ text: `EXPLAIN (FORMAT JSON) ${sql}`, values: params });
    const rows = result.rows[0]?.['QUERY PLAN']?.[0]?.Plan?.['Plan Rows'];
    return typeof rows === 'number' && rows >= 0 ? rows : undefined;
  } catch {
    return undefined;
  }
}
