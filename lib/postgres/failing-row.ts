/**
 * Failure narrowing for `postgres.write`: which row of a batch the database refused is at
 * fault. Tried on the sink's leased client after the batch was rolled back; leaves nothing
 * written behind (it rolls back what it tried).
 */
import { toPgText } from './text.js';
import { rowValues, type Plan, type Run } from './table-plan.js';
import type { Resolved } from './write-options.js';
import { insertSql, upsertRowSql } from './write-sql.js';

/**
 * Which row of a refused batch is at fault: COPY says (its `where` names the line); for
 * INSERT and upsert the rows are tried one at a time in a transaction that is rolled back
 * (`nested`: a savepoint in the transaction already open).
 */
export async function findFailingRow(run: Run, plan: Plan, o: Resolved, rows: unknown[], error: unknown, nested: boolean): Promise<number | undefined> {
  const line = /\bline (\d+)\b/.exec((error as { where?: string })?.where ?? '');
  if (o.mode === 'copy') return line ? Number(line[1]) - 1 : undefined;
  if (rows.length === 1) return 0;
  await run(nested ? 'SAVEPOINT sluice_diagnose' : 'BEGIN');
  let failing: number | undefined;
  try {
    for (let i = 0; i < rows.length; i++) {
      try {
        const values = rowValues(rows[i], plan, toPgText);
        await run(o.mode === 'upsert' ? upsertRowSql(plan, o.onConflict) : insertSql(plan, 1), values);
      } catch {
        failing = i;
        break;
      }
    }
  } finally {
    await run(nested ? 'ROLLBACK TO SAVEPOINT sluice_diagnose' : 'ROLLBACK');
  }
  return failing;
}
