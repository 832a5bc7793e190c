/**
 * `node bench/… PIPELINE IN OUT`: one sluice pipeline, for bench/index.ts (which bundles this
 * file into plain JavaScript first, so the timing is the library's, not tsx's transpiler's).
 * - `nj-ford-police`, `days-until-expiration`: the example pipelines exactly as in examples/.
 * - `nj-ford-police-columns`: the same as nj-ford-police, with `csv.read(…, { columns })`
 *   in place of `select` right after the source (fields of other columns never become strings).
 * - `nj-ford-police-fn`: nj-ford-police with `filter(function)` in place of `where` (every row made).
 */
import { daysUntilExpirationPipeline, njFordPolice } from '../examples/parking.js';
import { csv, filter, map, replace, run, select, where } from '../lib/index.js';

function njFordPoliceColumns(input: string, output: string) {
  return run(
    csv.read(input, { columns: [2, 7, 8, 23, 24] }), // state, make, agency, house, street
    where({ 0: 'NJ', 1: 'FORD', 2: 'P' }),
    replace(2, { P: 'police' }),
    map(([state, make, agency, house, street]: string[]) => [make, agency, [house, street, state].join(', ')]),
    csv.write(output, { headers: ['vehicle_make', 'issuing_agency', 'address'] }),
  );
}

/** nj-ford-police with its filter as a function (the example uses `where`). */
function njFordPoliceFn(input: string, output: string) {
  return run(
    csv.read(input),
    select([2, 7, 8, 23, 24]),
    filter(([state, make, agency]: string[]) => state === 'NJ' && make === 'FORD' && agency === 'P'),
    replace(2, { P: 'police' }),
    map(([state, make, agency, house, street]: string[]) => [make, agency, [house, street, state].join(', ')]),
    csv.write(output, { headers: ['vehicle_make', 'issuing_agency', 'address'] }),
  );
}

const jobs: Record<string, (input: string, output: string) => Promise<unknown>> = {
  'nj-ford-police': njFordPolice,
  'nj-ford-police-columns': njFordPoliceColumns,
  'nj-ford-police-fn': njFordPoliceFn,
  'days-until-expiration': daysUntilExpirationPipeline,
};
const [name, input, output] = process.argv.slice(2);
if (!jobs[name]) throw new Error(`unknown pipeline ${name}`);
await jobs[name](input, output);
