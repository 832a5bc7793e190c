/**
 * `node bench/… PIPELINE IN OUT`: one pipeline as a DuckDB query (`@duckdb/node-api`, its
 * default threads: one per core), for bench/index.ts — `COPY (SELECT … FROM read_csv(…)) TO …`,
 * every column read as text (`all_varchar`), as the other contenders read it.
 * - `nj-ford-police`: NJ-registered FORDs ticketed by the police, with a one-line address.
 * - `days-until-expiration`: every row plus the days from the issue date to the vehicle
 *   expiration date (-1 when either is not a valid date), as bench/python/ computes them.
 */
import { DuckDBInstance } from '@duckdb/node-api';

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
const source = (input: string) => `read_csv(${literal(input)}, header = true, all_varchar = true)`;

const queries: Record<string, (input: string) => string> = {
  'nj-ford-police': (input) => `
    SELECT "Vehicle Make" AS vehicle_make, 'police' AS issuing_agency,
           concat_ws(', ', "House Number", "Street Name", "Registration State") AS address
    FROM ${source(input)}
    WHERE "Registration State" = 'NJ' AND "Vehicle Make" = 'FORD' AND "Issuing Agency" = 'P'`,
  'days-until-expiration': (input) => `
    SELECT *, coalesce(date_diff('day',
        CASE WHEN regexp_full_match(substr("Issue Date", 1, 10), '[0-9]{4}-[0-9]{2}-[0-9]{2}')
          THEN try_strptime(substr("Issue Date", 1, 10), '%Y-%m-%d') END,
        CASE WHEN regexp_full_match("Vehicle Expiration Date", '[0-9]{8}(\\.0)?')
          THEN try_strptime(substr("Vehicle Expiration Date", 1, 8), '%Y%m%d') END), -1) AS days_until_expiration
    FROM ${source(input)}`,
};

const [name, input, output] = process.argv.slice(2);
if (!queries[name]) throw new Error(`unknown pipeline ${name}`);
const connection = await (await DuckDBInstance.create(':memory:')).connect();
await connection.run(`COPY (${queries[name](input)}) TO ${literal(output)} (HEADER, DELIMITER ',')`);
connection.closeSync();
