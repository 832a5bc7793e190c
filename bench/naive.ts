/**
 * Baselines: the nj-ford-police pipeline written the straightforward way — a CSV parser →
 * object Transforms → fast-csv format — with fast-csv's parser or with csv-parse.
 * `node … naive.ts fast-csv|csv-parse IN OUT`
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as csvParse } from 'csv-parse';
import { format, parse as fastCsvParse } from 'fast-csv';

const [parser, input, output] = process.argv.slice(2);
const parsers: Record<string, () => Transform> = {
  'fast-csv': () => fastCsvParse({ headers: false, skipRows: 1 }),
  'csv-parse': () => csvParse({ from_line: 2 }),
};
if (!parsers[parser]) throw new Error(`unknown parser ${parser}`);
const step = (fn: (row: string[]) => string[] | null) =>
  new Transform({ objectMode: true, transform: (row: string[], _e, cb) => cb(null, fn(row) ?? undefined) });

await pipeline(
  createReadStream(input),
  parsers[parser](),
  step(([, , state, , , , , make, agency, , , , , , , , , , , , , , , house, street]) => [state, make, agency, house, street]),
  step((r) => (r[0] === 'NJ' && r[1] === 'FORD' && r[2] === 'P' ? r : null)),
  step(([state, make, , house, street]) => [make, 'police', [house, street, state].join(', ')]),
  format({ headers: ['vehicle_make', 'issuing_agency', 'address'], alwaysWriteHeaders: true, includeEndRowDelimiter: true }),
  createWriteStream(output),
);
