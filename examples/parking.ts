/**
 * The first two real pipelines, on NYC's "Parking Violations Issued" export (43 columns).
 * Columns by index: 2 registration state, 4 issue date, 7 vehicle make, 8 issuing agency,
 * 12 vehicle expiration date, 23 house number, 24 street name.
 */
import { addColumn, csv, filter, map, replace, run, select, type CsvParseStage, type Summary } from '../lib/index.js';

/** Lets a caller watch the source (e.g. `bytesIn` for a progress bar). */
export type Watch = (source: CsvParseStage) => void;

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a valid calendar date, or null. Pure UTC: no time zone can shift it. */
export function epochDay(year: number, month: number, day: number): number | null {
  if (month < 1 || month > 12 || day < 1 || day > 31 || year < 1) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0–99 to 1900–1999
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return Math.round(date.getTime() / DAY_MS);
}

const ISSUE_DATE = /^(\d{4})-(\d{2})-(\d{2})/;
const EXPIRATION_DATE = /^(\d{4})(\d{2})(\d{2})(?:\.0)?$/;

function parse(pattern: RegExp, text: string): number | null {
  const m = pattern.exec(text);
  return m ? epochDay(Number(m[1]), Number(m[2]), Number(m[3])) : null;
}

/**
 * Calendar days from the issue date (`YYYY-MM-DD…`) to the vehicle expiration date
 * (`YYYYMMDD` or `YYYYMMDD.0`); -1 when either is not a valid calendar date (`0`,
 * `88888888`, month 13, February 30, empty).
 */
export function daysUntilExpiration(issueDate: string, expirationDate: string): number {
  const issued = parse(ISSUE_DATE, issueDate);
  const expires = parse(EXPIRATION_DATE, expirationDate);
  return issued === null || expires === null ? -1 : expires - issued;
}

/** Violations by police (`P`) to FORD vehicles registered in NJ, with one address field. */
export function njFordPolice(input: string, output: string, watch?: Watch): Promise<Summary> {
  const source = csv.read(input);
  watch?.(source);
  return run(
    source,
    select([2, 7, 8, 23, 24]), // state, make, agency, house, street
    filter(([state, make, agency]: string[]) => state === 'NJ' && make === 'FORD' && agency === 'P'),
    replace(2, { P: 'police' }),
    map(([state, make, agency, house, street]: string[]) => [make, agency, [house, street, state].join(', ')]),
    csv.write(output, { headers: ['vehicle_make', 'issuing_agency', 'address'] }),
  );
}

/** Every row plus `days_until_expiration`; the header is the input's plus the new name. */
export function daysUntilExpirationPipeline(input: string, output: string, watch?: Watch): Promise<Summary> {
  const source = csv.read(input);
  watch?.(source);
  return run(
    source,
    addColumn('days_until_expiration', (row: string[]) => daysUntilExpiration(row[4], row[12])),
    csv.write(output, { headers: () => [...(source.headers ?? []), 'days_until_expiration'] }),
  );
}
