/**
 * What `postgres.write` writes, settled once from the catalog before the first batch: the
 * table (schema-qualified and quoted), the columns with their types, the upsert key, and
 * for upserts committed batch by batch the session's staging table. Names must be exactly
 * real names of the table; they are quoted here, and values never enter the SQL.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { checkName, type Resolved } from './write-options.js';
import { PostgresError, quoteIdent } from './connection.js';

export interface Column {
  name: string;
  /** As format_type spells it, with its modifier: `character varying(8)`. */
  type: string;
  /** Without a modifier, as format_type spells it for -1 (`bpchar`, `"bit"`: plain `character` and `bit` mean length 1): a cast to it never cuts a value. */
  base: string;
}

export interface Plan {
  /** Schema-qualified, quoted. */
  target: string;
  columns: Column[];
  /** Object rows: read by name; array rows: by position. */
  byName: boolean;
  key: string[];
  /** Rows per INSERT statement: 65,535 parameters at most. */
  rowsPerInsert: number;
  /** Upsert: the session's temporary table each batch is COPied into (quoted, in pg_temp). */
  staging: string | null;
}

/** PostgreSQL's bind-parameter limit (a 16-bit count in the protocol). */
const MAX_PARAMETERS = 65_535;

/** A statement on the sink's leased client (the sink remembers it, so that destroy can cancel it). */
export type Run = <R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string | pg.QueryConfig, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Looks the table up, checks the columns against it (named by `first`, the first row, unless given), and creates the upsert staging table. */
export async function planTable(run: Run, stage: string, o: Resolved, first: unknown): Promise<Plan> {
  const { schema, table } = o;
  const found = await run<{ nspname: string; relname: string; oid: number }>(
    `SELECT n.nspname, c.relname, c.oid::int AS oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $2 AND c.relkind IN ('r', 'p', 'f', 'v') AND (CASE WHEN $1::text IS NULL THEN n.nspname = ANY (current_schemas(true)) ELSE n.nspname = $1 END)
      ORDER BY array_position(current_schemas(true), n.nspname) LIMIT 1`,
    [schema, table],
  );
  if (found.rows.length === 0) {
    // A table named alike but for case ("Plates" for plates): say which, as for columns.
    const alike = await run<{ name: string }>(
      `SELECT DISTINCT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE lower(c.relname) = lower($2) AND c.relkind IN ('r', 'p', 'f', 'v') AND (CASE WHEN $1::text IS NULL THEN n.nspname = ANY (current_schemas(true)) ELSE n.nspname = $1 END)
        ORDER BY 1 LIMIT 3`,
      [schema, table],
    );
    const hint = alike.rows.length > 0 ? `; did you mean ${alike.rows.map((r) => quoteIdent(r.name)).join(' or ')}?` : '';
    throw new PostgresError(`${stage}: no table ${schema === null ? `${quoteIdent(table)} on the search_path` : `${quoteIdent(schema)}.${quoteIdent(table)}`} (names are matched exactly, case included${hint})`);
  }
  const { nspname, relname, oid } = found.rows[0];
  const attributes = await run<{ name: string; type: string; base: string; insertable: boolean; pk: boolean }>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, pg_catalog.format_type(a.atttypid, -1) AS base,
            (a.attgenerated = '' AND a.attidentity <> 'a') AS insertable,
            EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
       FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const byName = new Map(attributes.rows.map((a) => [a.name, a]));
  const isArray = Array.isArray(first);
  if (!isArray && (typeof first !== 'object' || first === null)) {
    throw new PostgresError(`${stage}: rows must be objects or arrays, got ${first === null ? 'null' : typeof first}`);
  }
  const names = o.columns ?? (isArray ? attributes.rows.filter((a) => a.insertable).map((a) => a.name) : Object.keys(first as object));
  const unknown = names.filter((n) => !byName.has(n));
  for (const name of names) checkName('column', name);
  if (unknown.length > 0) {
    const lower = (n: string) => attributes.rows.filter((a) => a.name.toLowerCase() === n.toLowerCase()).map((a) => a.name);
    const hints = unknown.map((n) => (lower(n).length > 0 ? `${JSON.stringify(n)} (did you mean ${lower(n).map((m) => JSON.stringify(m)).join(' or ')}?)` : JSON.stringify(n)));
    throw new PostgresError(`${stage}: not a column of ${quoteIdent(nspname)}.${quoteIdent(relname)}: ${hints.join(', ')}`);
  }
  if (new Set(names).size !== names.length) throw new PostgresError(`${stage}: a column is named twice in ${JSON.stringify(names)}`);
  if (names.length === 0) throw new PostgresError(`${stage}: no columns to write`);
  const key = [...(o.key ?? attributes.rows.filter((a) => a.pk).map((a) => a.name))];
  if (o.mode === 'upsert') {
    if (key.length === 0) throw new PostgresError(`${stage}: upsert needs \`key\` (the table has no primary key)`);
    const missing = key.filter((k) => !names.includes(k));
    if (missing.length > 0) throw new PostgresError(`${stage}: the upsert key ${JSON.stringify(missing)} is not among the written columns`);
  }
  const columns = names.map((name) => ({ name, type: byName.get(name)!.type, base: byName.get(name)!.base }));
  let staging: string | null = null;
  // Not with transaction: 'load': a table truncated in each batch's savepoint keeps every
  // batch's file until the load commits (PostgreSQL needs it for a rollback) — measured:
  // ~450 files, 23 MB at 150,000 short rows. That mode upserts through unnest instead.
  if (o.mode === 'upsert' && o.transaction === 'batch') {
    // The written columns with their types (format_type's text, as the catalog spells
    // it) and no constraints: values are checked by their types' input as COPY reads
    // them (as in the other modes), constraints by the INSERT into the table.
    staging = `pg_temp.${quoteIdent(`sluice_upsert_${randomBytes(8).toString('hex')}`)}`;
    await run(`CREATE TEMPORARY TABLE ${staging} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
  }
  return {
    target: `${quoteIdent(nspname)}.${quoteIdent(relname)}`,
    columns,
    byName: !isArray,
    key,
    rowsPerInsert: Math.max(1, Math.floor(MAX_PARAMETERS / names.length)),
    staging,
  };
}

/** The row's values in column order, each as `convert` makes it. */
export function rowValues<T>(row: unknown, plan: Plan, convert: (value: unknown) => T): T[] {
  const out = new Array<T>(plan.columns.length);
  if (plan.byName) {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new TypeError('expected an object row, like the first');
    for (let i = 0; i < out.length; i++) out[i] = convert((row as Record<string, unknown>)[plan.columns[i].name]);
  } else {
    if (!Array.isArray(row)) throw new TypeError('expected an array row, like the first');
    if (row.length !== out.length) throw new TypeError(`expected ${out.length} values, got ${row.length}`);
    for (let i = 0; i < out.length; i++) out[i] = convert(row[i]);
  }
  return out;
}
