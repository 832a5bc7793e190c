/**
 * The statements of `postgres.write`, per mode: multi-row INSERT, COPY, and upsert (through
 * the staging table, through unnest, or one row at a time to find a failing one). Names
 * come quoted from the plan; values are only ever parameters or COPY data.
 */
import type { Plan } from './table-plan.js';
import type { Resolved } from './write-options.js';
import { quoteIdent } from './connection.js';

/** A multi-row INSERT of `rows` rows: the parameters are the rows' values, row after row. */
export function insertSql(plan: Plan, rows: number): string {
  const n = plan.columns.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p: string[] = [];
    for (let c = 1; c <= n; c++) p.push(`$${r * n + c}`);
    tuples.push(`(${p.join(',')})`);
  }
  return `INSERT INTO ${plan.target} (${plan.columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${tuples.join(',')}`;
}

/** The COPY statement of one batch: into the table, or (upsert) through the staging table. */
export function copySql(plan: Plan, onConflict: Resolved['onConflict']): string {
  return plan.staging ? upsertBatchSql(plan, onConflict) : `COPY ${plan.target} (${plan.columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`;
}

/** `DO UPDATE SET` the other written columns, or `DO NOTHING`. */
function conflictAction(plan: Plan, onConflict: Resolved['onConflict']): string {
  const others = plan.columns.filter((c) => !plan.key.includes(c.name));
  return onConflict === 'nothing' || others.length === 0
    ? 'DO NOTHING'
    : `DO UPDATE SET ${others.map((c) => `${quoteIdent(c.name)} = EXCLUDED.${quoteIdent(c.name)}`).join(', ')}`;
}

/**
 * Upsert of one batch, as one simple-query message (so one round trip, and one implicit
 * transaction: the batch commits whole or not at all): empty the staging table, COPY the
 * batch into it, insert it from there.
 */
function upsertBatchSql(plan: Plan, onConflict: Resolved['onConflict']): string {
  const names = plan.columns.map((c) => quoteIdent(c.name)).join(', ');
  return `TRUNCATE ${plan.staging}; COPY ${plan.staging} (${names}) FROM STDIN; INSERT INTO ${plan.target} (${names}) SELECT ${names} FROM ${plan.staging} ON CONFLICT (${plan.key.map(quoteIdent).join(', ')}) ${conflictAction(plan, onConflict)}`;
}

/**
 * Upsert of one batch without a staging table (transaction: 'load'): one text array per
 * column, each element cast to the column's type without its modifier — the INSERT then
 * applies the modifier as an assignment, as COPY and INSERT do (a cast to
 * `varchar(8)` would cut a longer value instead of refusing it).
 */
export function upsertUnnestSql(plan: Plan, onConflict: Resolved['onConflict']): string {
  const names = plan.columns.map((c) => quoteIdent(c.name));
  const unnest = plan.columns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const casts = plan.columns.map((c, i) => `u.c${i}::${c.base}`).join(', ');
  const aliases = plan.columns.map((_, i) => `c${i}`).join(', ');
  return `INSERT INTO ${plan.target} (${names.join(', ')}) SELECT ${casts} FROM unnest(${unnest}) AS u(${aliases}) ON CONFLICT (${plan.key.map(quoteIdent).join(', ')}) ${conflictAction(plan, onConflict)}`;
}

/** Upsert of one row, to find the one a refused batch failed on. */
export function upsertRowSql(plan: Plan, onConflict: Resolved['onConflict']): string {
  return `${insertSql(plan, 1)} ON CONFLICT (${plan.key.map(quoteIdent).join(', ')}) ${conflictAction(plan, onConflict)}`;
}
