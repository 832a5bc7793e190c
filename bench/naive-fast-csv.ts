/**
 * Baseline: the straightforward Node version — fast-csv parse → object Transforms →
 * fast-csv format — of the nj-ford-police pipeline. `tsx bench/naive-fast-csv.ts IN OUT`
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { format, parse } from 'fast-csv';

const [input, output] = process.argv.slice(2);
const step = (fn: (row: string[]) => string[] | null) =>
  new Transform({ objectMode: true, transform: (row: string[], _e, cb) => cb(null, fn(row) ?? undefined) });

await pipeline(
  createReadStream(input),
  parse({ headers: false, skipRows: 1 }),
  step(([, , state, , , , , make, agency, , , , , , , , , , , , , , , house, street]) => [state, make, agency, house, street]),
  step((r) => (r[0] === 'NJ' && r[1] === 'FORD' && r[2] === 'P' ? r : null)),
  step(([state, make, , house, street]) => [make, 'police', [house, street, state].join(', ')]),
  format({ headers: ['vehicle_make', 'issuing_agency', 'address'], alwaysWriteHeaders: true, includeEndRowDelimiter: true }),
  createWriteStream(output),
);
