/**
 * `npx tsx examples/postgres-to-csv.ts IN.csv OUT.csv`: loads IN (the 43-column parking
 * export) into a PostgreSQL table with `postgres.write`, then runs the nj-ford-police
 * pipeline reading the table back through the cursor source, writing OUT — the same file
 * `examples/nj-ford-police.ts` writes from the CSV. Uses DATABASE_URL when set, else the
 * tests' choice (127.0.0.1:5432, else an embedded PostgreSQL; SLUICE_PG=embedded forces
 * that), and drops the table it made.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { csv, filter, map, pipe, postgres, replace, run, select, take, type RunOptions, type Summary } from '../lib/index.js';
import { server, stopServer } from '../test/helpers/postgres.js';

export interface PostgresRoundTrip {
  load: Summary;
  read: Summary;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The header line of a CSV file, as names. */
async function headerOf(input: string): Promise<string[]> {
  for await (const row of pipe(csv.read(input, { header: false }), take(1))) return row as string[];
  throw new Error(`${input} is empty`);
}

export interface LoadedTable {
  table: string;
  headers: string[];
  summary: Summary;
}

/** Loads a CSV file into a new table (every column text; `sluice_line` keeps the file's order). */
export async function loadCsv(pool: pg.Pool, input: string, watch?: Pick<RunOptions, 'progress' | 'progressMs'>): Promise<LoadedTable> {
  const headers = await headerOf(input);
  const table = `sluice_parking_${process.pid}_${randomBytes(3).toString('hex')}`;
  await pool.query(`CREATE TABLE ${quote(table)} (sluice_line bigserial PRIMARY KEY, ${headers.map((h) => `${quote(h)} text`).join(', ')})`);
  try {
    const summary = await run(csv.read(input), postgres.write(pool, { table, columns: headers, mode: 'copy' }), { ...watch });
    return { table, headers, summary };
  } catch (error) {
    await pool.query(`DROP TABLE IF EXISTS ${quote(table)}`);
    throw error;
  }
}

/** The nj-ford-police pipeline reading the loaded table through the cursor source. */
export function readNjFordPolice(pool: pg.Pool, { table, headers }: LoadedTable, output: string, watch?: Pick<RunOptions, 'progress' | 'progressMs'>): Promise<Summary> {
  return run(
    postgres.query<string[]>(pool, `SELECT ${headers.map(quote).join(', ')} FROM ${quote(table)} ORDER BY sluice_line`, [], { rowMode: 'array', types: 'text' }),
    // The stages of examples/parking.ts's njFordPolice, unchanged.
    select([2, 7, 8, 23, 24]), // state, make, agency, house, street
    filter(([state, make, agency]: string[]) => state === 'NJ' && make === 'FORD' && agency === 'P'),
    replace(2, { P: 'police' }),
    map(([state, make, agency, house, street]: string[]) => [make, agency, [house, street, state].join(', ')]),
    csv.write(output, { headers: ['vehicle_make', 'issuing_agency', 'address'] }),
    { ...watch },
  );
}

export const dropTable = async (pool: pg.Pool, { table }: LoadedTable): Promise<void> => {
  await pool.query(`DROP TABLE IF EXISTS ${quote(table)}`);
};

/** Loads `input` into a new table in `pool`'s database, then reads it into `output`; drops the table. */
export async function postgresToCsv(pool: pg.Pool, input: string, output: string): Promise<PostgresRoundTrip> {
  const loaded = await loadCsv(pool, input);
  try {
    return { load: loaded.summary, read: await readNjFordPolice(pool, loaded, output) };
  } finally {
    await dropTable(pool, loaded);
  }
}

/** A pool on DATABASE_URL or the tests' choice of server. */
export async function examplePool(): Promise<pg.Pool> {
  const url = process.env.DATABASE_URL || (await server()).url;
  return new pg.Pool({ connectionString: url, application_name: 'sluice-example', max: 2 });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: npx tsx examples/postgres-to-csv.ts IN.csv OUT.csv');
    process.exitCode = 2;
  } else {
    const pool = await examplePool();
    try {
      console.log(JSON.stringify(await postgresToCsv(pool, input, output)));
    } catch (error) {
      console.error(`postgres-to-csv: ${(error as Error).message}`);
      process.exitCode = 1;
    } finally {
      await pool.end();
      await stopServer();
    }
  }
}
