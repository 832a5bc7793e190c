/**
 * Sorting and aggregating the parking file (columns by index: 0 summons number,
 * 2 registration state, 5 violation code, 7 vehicle make), in a memory budget: rows spill
 * to a private temporary folder when they outgrow it.
 */
import { agg, csv, groupBy, run, sort, type Summary } from '../lib/index.js';
import type { Watch } from './parking.js';

/** Every row, header first, by vehicle make then summons number (as strings), stable. */
export function sortByMake(input: string, output: string, watch?: Watch, memory: string | number = '64MB'): Promise<Summary> {
  const source = csv.read(input);
  return run(
    source,
    sort<string[]>([7, 0], { memory }),
    csv.write(output, { headers: () => source.headers ?? [] }),
    { ...watch },
  );
}

const byString = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** One row per (state, violation code) with its count: tickets desc, then state, then code (strings) asc. */
export function ticketsByState(input: string, output: string, watch?: Watch): Promise<Summary> {
  const source = csv.read(input);
  return run(
    source,
    groupBy<string[]>([2, 5], { tickets: agg.count() }, { output: 'array' }),
    sort<unknown[]>([{ key: 2, order: 'desc' }, { key: 0, compare: byString }, { key: 1, compare: byString }]),
    csv.write(output, { headers: ['registration_state', 'violation_code', 'tickets'] }),
    { ...watch },
  );
}
