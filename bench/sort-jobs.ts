/**
 * `node bench/… JOB[=MEMORY] IN OUT`: one contender of the sort and group-by scenarios of
 * bench/index.ts and bench/sort.ts, in its own process (bundled to plain JavaScript there, so
 * the timing is the library's, not tsx's). MEMORY is a budget such as `64MB`.
 * - `sluice-sort=MEMORY`: csv.read → sort([7, 0], { memory }) → csv.write (make, then summons number).
 * - `floor`: csv.read → csv.write, no work (what reading and writing alone cost).
 * - `array-sort`: csv.read, every row in an array, Array.sort, csv.write.
 * - `external-merge-sort`: csv.read → the npm package's `sort` (runs of 100,000 rows, as it
 *   sizes runs in rows, written as JSON lines) → csv.write.
 * - `duckdb-sort[=MEMORY]`: DuckDB's ORDER BY in a COPY, with `memory_limit` MEMORY and 1 thread when
 *   MEMORY is given (its defaults otherwise).
 * - `sluice-group-state=MEMORY` / `sluice-group-plate=MEMORY`: count + sum of Feet From Curb
 *   (column 37) by Registration State (column 2) / Plate ID (column 1), with groupBy in
 *   `memory` over `csv.read`'s `columns` projection (only the two fields are decoded).
 * - `duckdb-group-state[=MEMORY]` / `duckdb-group-plate[=MEMORY]`: the same GROUP BY in DuckDB.
 * - `sluice-generated-sort=MEMORY`: IN generated small rows (a count, no file) sorted in
 *   `memory` (the 10 M-row memory check); prints the rows and peak RSS as JSON.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { agg, csv, groupBy, run, sort } from '../lib/index.js';

const [spec, input, output] = process.argv.slice(2) as [string, string, string];
const [job, limit] = spec.split('=') as [string, string | undefined];
const memory = limit ?? '64MB';
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
  case 'external-merge-sort': {
    const { sort: externalSort, createStore } = await import('external-merge-sort');
    const store = createStore<string[]>(async (chunk, file) => {
      const out = createWriteStream(file);
      for await (const row of chunk) if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
      out.end();
      await finished(out);
      return (async function* () {
        for await (const line of createInterface({ input: createReadStream(file) })) yield JSON.parse(line) as string[];
      })();
    }, '.jsonl');
    const source = csv.read(input);
    const sorted = externalSort(source as unknown as Iterable<string[]>, { maxSize: 100_000, comparer: byString, store });
    await run(Readable.from(sorted), csv.write(output, { headers: () => source.headers ?? [] }));
    break;
  }
  case 'duckdb-sort':
    await duckdb(`COPY (SELECT * FROM ${csvIn} ORDER BY "Vehicle Make", "Summons Number") TO '${output}' (HEADER)`, limit);
    break;
  case 'sluice-group-state':
  case 'sluice-group-plate': {
    const [column, name] = groupColumn[job === 'sluice-group-state' ? 'state' : 'plate'];
    await run(
      csv.read(input, { columns: [column, 37] }),
      groupBy<string[]>(0, { tickets: agg.count(), feet: agg.sum(1) }, { output: 'array', memory }),
      csv.write(output, { headers: [name, 'tickets', 'feet'] }),
    );
    break;
  }
  case 'duckdb-group-state':
  case 'duckdb-group-plate': {
    const name = groupColumn[job === 'duckdb-group-state' ? 'state' : 'plate'][1];
    const sql = `SELECT "${name}", count(*) AS tickets, sum(TRY_CAST(NULLIF("Feet From Curb", '') AS DOUBLE)) AS feet FROM ${csvIn} GROUP BY 1`;
    await duckdb(`COPY (${sql}) TO '${output}' (HEADER)`, limit);
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
