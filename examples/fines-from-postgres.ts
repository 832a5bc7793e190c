// npx tsx examples/fines-from-postgres.ts IN.csv CODES.csv OUT.csv
// fines-by-state with the fines in PostgreSQL: CODES.csv is loaded into a table, then every
// ticket's fine is looked up through postgres.lookup (one query per batch of distinct codes,
// cached). Database: DATABASE_URL, else the tests' choice (see examples/postgres-to-csv.ts).
import { stopServer } from '../test/helpers/postgres.js';
import { finesFromPostgres, loadCodes } from './fines.js';
import { examplePool } from './postgres-to-csv.js';

const [input, codes, output] = process.argv.slice(2);
if (!input || !codes || !output) {
  console.error('usage: npx tsx examples/fines-from-postgres.ts IN.csv CODES.csv OUT.csv');
  process.exitCode = 2;
} else {
  const pool = await examplePool();
  const table = `violation_codes_${process.pid}`;
  try {
    await loadCodes(pool, codes, table);
    console.log(JSON.stringify(await finesFromPostgres(pool, table, input, output)));
  } catch (error) {
    console.error(`fines-from-postgres: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
    await stopServer();
  }
}
