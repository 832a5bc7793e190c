/**
 * Fines by registration state: the parking file (columns by index: 2 registration state,
 * 5 violation code) joined with a table of violation codes and their fines, as a left join —
 * a ticket whose code is not in the table adds 0 — then aggregated per state. The codes come
 * from a CSV (`finesByState`, a table in memory) or from PostgreSQL (`finesFromPostgres`,
 * through `postgres.lookup`: one query per batch of distinct codes, cached).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type pg from 'pg';
import { agg, csv, groupBy, lookup, originOf, pipe, postgres, run, sort, type LookupSource, type Summary } from '../lib/index.js';
import type { Watch } from './parking.js';

const HEADERS = ['registration_state', 'tickets', 'total_fine'];
const byString = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** Reads `violation_code,fine` into a Map; a repeated code, a missing column or a fine that is not a number fails naming the line. */
export async function readCodes(path: string): Promise<Map<string, number>> {
  const codes = new Map<string, number>();
  for await (const row of pipe(csv.read(path, { rows: 'objects' }))) {
    const r = row as Record<string, string>;
    const where = `${path}, line ${originOf(row)?.line ?? '?'}`;
    if (!('violation_code' in r) || !('fine' in r)) throw new Error(`${path}: expected the header violation_code,fine`);
    const fine = Number(r.fine);
    if (r.fine.trim() === '' || !Number.isFinite(fine)) throw new Error(`${where}: fine ${JSON.stringify(r.fine)} is not a number`);
    if (codes.has(r.violation_code)) throw new Error(`${where}: violation code ${JSON.stringify(r.violation_code)} appears twice`);
    codes.set(r.violation_code, fine);
  }
  return codes;
}

/** The job itself, for any lookup source of fines (a Map of code → fine, or a function of a batch of codes). */
function finesJob(input: string, output: string, fines: LookupSource<number | { fine: number }>, watch?: Watch): Promise<Summary> {
  const source = csv.read(input);
  const fineOf = (v: number | { fine: number } | null): number => (v === null ? 0 : typeof v === 'number' ? v : Number(v.fine));
  return run(
    source,
    lookup<string[], number | { fine: number }, [string, number]>(fines, { on: 5, merge: (row, fine) => [row![2]!, fineOf(fine)] }),
    groupBy<[string, number]>(0, { tickets: agg.count(), total_fine: agg.sum(1) }, { output: 'array' }),
    sort<unknown[]>([{ key: 2, order: 'desc' }, { key: 0, compare: byString }]),
    csv.write(output, { headers: HEADERS }),
    { ...watch },
  );
}

/** `registration_state,tickets,total_fine`: per state, its tickets and the sum of their fines (codes from CODES.csv), by total_fine desc, then state. */
export async function finesByState(input: string, codes: string, output: string, watch?: Watch): Promise<Summary> {
  return finesJob(input, output, await readCodes(codes), watch);
}

/** The same, with the fines read from the PostgreSQL table `table (violation_code text, fine numeric)` through `postgres.lookup`. */
export function finesFromPostgres(pool: pg.Pool, table: string, input: string, output: string, watch?: Watch): Promise<Summary> {
  const fines = postgres.lookup<{ fine: number }>(pool, `SELECT violation_code, fine::float8 AS fine FROM ${table} WHERE violation_code = ANY($1)`);
  return finesJob(input, output, fines, watch);
}

/** Loads CODES.csv into a new table (dropped by the caller). */
export async function loadCodes(pool: pg.Pool, codes: string, table: string): Promise<void> {
  await pool.query(`CREATE TABLE ${table} (violation_code text PRIMARY KEY, fine numeric NOT NULL)`);
  const rows = [...(await readCodes(codes))].map(([violation_code, fine]) => ({ violation_code, fine }));
  await run(rows, postgres.write(pool, { table }));
}

/**
 * Writes a codes table for the sample data: codes 1–99 with a fine each (45 to 115 dollars),
 * leaving out the multiples of 9 (so tickets with codes 36, 18, … find no fine).
 */
export async function writeCodesCsv(path: string): Promise<number> {
  const out = createWriteStream(path);
  let n = 0;
  out.write('violation_code,fine\n');
  for (let code = 1; code <= 99; code++) {
    if (code % 9 === 0) continue;
    out.write(`${code},${45 + ((code * 37) % 15) * 5}\n`);
    n++;
  }
  out.end();
  await once(out, 'finish');
  return n;
}
