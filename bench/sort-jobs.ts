/**
 * `node bench/… JOB IN OUT [MEMORY]`: one contender of bench/sort.ts in its own process
 * (bundled to plain JavaScript there, so the timing is the library's, not tsx's).
 * - `sluice-sort`: csv.read → sort([7, 0], { memory }) → csv.write (make, then summons number).
 * - `floor`: csv.read → csv.write, no work (what reading and writing alone cost).
 * - `array-sort`: csv.read, every row in an array, Array.sort, csv.write.
 * - `duckdb-sort`: DuckDB's ORDER BY in a COPY, with `memory_limit` MEMORY and 1 thread when
 *   MEMORY is given (its defaults otherwise).
 * - `sluice-group-state` / `sluice-group-plate`: count + sum of Feet From Curb (column 37) by
 *   Registration State (column 2) / Plate ID (column 1), with groupBy in `memory`.
 * - `duckdb-group-state` / `duckdb-group-plate`: the same GROUP BY in DuckDB.
 * - `sluice-generated-sort`: ROWS (in place of IN) generated small rows sorted in `memory`,
 *   no file read (the 10 M-row memory check).
 */
import { Readable } from 'node:stream';
import { agg, csv, groupBy, run, sort } from '../lib/index.js';

const [job, input, output, memory = '64MB'] = process.argv.slice(2) as [string, string, string, string | undefined];
const byString = (a: string[], b: string[]) => (a[7]! < b[7]! ? -1 : a[7]! > b[7]! ? 1 : a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0);
const groupColumn = { state: [2, 'Registration State'], plate: [1, 'Plate ID'] } as const;

async function duckdb(sql: string, limit: string | undefined): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', limit ? { memory_limit: limit, threads: '1', temp_directory: `${output}.duckdb.tmp` } : {});
  const connection = await db.connect();
  await connection.run(sql);
  connection.closeSync();
  db.closeSync();
}
const csvIn = `read_csv('${input}', header = true, all_varchar = true)`;

switch (job) {
  case 'sluice-sort': {
    const source = csv.read(input);
    await run(source, sort<string[]>([7, 0], { memory }), csv.write(output, { headers: () => source.headers ?? [] }));
    break;
  }
  case 'floor': {
    const source = csv.read(input);
    await run(source, csv.write(output, { headers: () => source.headers ?? [] }));
    break;
  }
  case 'array-sort': {
    const rows: string[][] = [];
    const source = csv.read(input);
    for await (const row of source) rows.push(row as string[]);
    rows.sort(byString);
    await run(Readable.from(rows), csv.write(output, { headers: source.headers ?? [] }));
    break;
  }
  case 'duckdb-sort':
    await duckdb(`COPY (SELECT * FROM ${csvIn} ORDER BY "Vehicle Make", "Summons Number") TO '${output}' (HEADER)`, process.argv[5]);
    break;
  case 'sluice-group-state':
  case 'sluice-group-plate': {
    const [column, name] = groupColumn[job === 'sluice-group-state' ? 'state' : 'plate'];
    await run(
      csv.read(input),
      groupBy<string[]>(column, { tickets: agg.count(), feet: agg.sum(37) }, { output: 'array', memory }),
      csv.write(output, { headers: [name, 'tickets', 'feet'] }),
    );
    break;
  }
  case 'duckdb-group-state':
  case 'duckdb-group-plate': {
    const name = groupColumn[job === 'duckdb-group-state' ? 'state' : 'plate'][1];
    const sql = `SELECT "${name}", count(*) AS tickets, sum(TRY_CAST(NULLIF("Feet From Curb", '') AS DOUBLE)) AS feet FROM ${csvIn} GROUP BY 1`;
    await duckdb(`COPY (${sql}) TO '${output}' (HEADER)`, process.argv[5]);
    break;
  }
  case 'sluice-generated-sort': {
    const rows = Number(input);
    let i = 0;
    // Small rows (a key and two short fields), keys in a scrambled order.
    const source = new Readable({
      objectMode: true,
      read() {
        for (let n = 0; n < 1024 && i < rows; n++, i++) this.push([(i * 2654435761) % 4294967291, `row ${i}`, i & 1 ? 'odd' : 'even']);
        if (i >= rows) this.push(null);
      },
    });
    let count = 0;
    let last = -1;
    const { Writable } = await import('node:stream');
    await run(source, sort<[number, string, string]>(0, { memory }), new Writable({
      objectMode: true,
      write(row: [number, string, string], _e, cb) {
        if (row[0] < last) cb(new Error(`out of order at ${count}`));
        else {
          last = row[0];
          count++;
          cb();
        }
      },
    }));
    if (count !== rows) throw new Error(`sorted ${count} rows of ${rows}`);
    process.stdout.write(`${JSON.stringify({ rows: count, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
    break;
  }
  default:
    throw new Error(`unknown job ${job}`);
}
