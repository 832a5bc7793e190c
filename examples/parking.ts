/**
 * The first two real pipelines, on NYC's "Parking Violations Issued" export (43 columns).
 * Columns by index: 2 registration state, 4 issue date, 7 vehicle make, 8 issuing agency,
 * 12 vehicle expiration date, 23 house number, 24 street name.
 */
import { addColumn, csv, map, replace, run, select, where, type RunOptions, type Summary } from '../lib/index.js';

/** Run options a caller may add to an example's run (the demo's progress line). */
export type Watch = Pick<RunOptions, 'progress' | 'progressMs'>;

/** Days since 1970-01-01 of a valid proleptic-Gregorian date (year ≥ 1), or null. */
export function epochDay(year: number, month: number, day: number): number | null {
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 ? (leap ? 29 : 28) : MONTH_DAYS[month - 1])) return null;
  // Days from civil (H. Hinnant): plain integer arithmetic, no Date, no time zone.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written by the `count` ASCII digits at `at`, or -1 if one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1; // (NaN past the end fails both tests too)
    value = value * 10 + d;
  }
  return value;
}

/** `YYYY-MM-DD…` (anything may follow). */
function issueDay(text: string): number | null {
  if (text.length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
  return date(digits(text, 0, 4), digits(text, 5, 2), digits(text, 8, 2));
}

/** `YYYYMMDD` or `YYYYMMDD.0`, nothing else. */
function expirationDay(text: string): number | null {
  if (text.length !== 8 && !(text.length === 10 && text.endsWith('.0'))) return null;
  return date(digits(text, 0, 4), digits(text, 4, 2), digits(text, 6, 2));
}

function date(year: number, month: number, day: number): number | null {
  return year < 0 || month < 0 || day < 0 ? null : epochDay(year, month, day);
}

/**
 * Calendar days from the issue date (`YYYY-MM-DD…`) to the vehicle expiration date
 * (`YYYYMMDD` or `YYYYMMDD.0`); -1 when either is not a valid calendar date (`0`,
 * `88888888`, month 13, February 30, empty). Written with charCodeAt and integer
 * arithmetic (not RegExp and Date): it runs for every one of millions of rows.
 */
export function daysUntilExpiration(issueDate: string, expirationDate: string): number {
  const issued = issueDay(issueDate);
  const expires = issued === null ? null : expirationDay(expirationDate);
  return issued === null || expires === null ? -1 : expires - issued;
}

/**
 * Violations by police (`P`) to FORD vehicles registered in NJ, with one address field. The
 * filter is `where` (data): the reader drops the other rows before making strings of them;
 * `filter(([state, make, agency]) => state === 'NJ' && …)` gives the same rows, slower.
 */
export function njFordPolice(input: string, output: string, watch?: Watch): Promise<Summary> {
  return run(
    csv.read(input),
    select([2, 7, 8, 23, 24]), // state, make, agency, house, street
    where({ 0: 'NJ', 1: 'FORD', 2: 'P' }),
    replace(2, { P: 'police' }),
    map(([state, make, agency, house, street]: string[]) => [make, agency, [house, street, state].join(', ')]),
    csv.write(output, { headers: ['vehicle_make', 'issuing_agency', 'address'] }),
    { ...watch },
  );
}

/**
 * Every row plus `days_until_expiration`; the header is the input's plus the new name. The
 * function reads two fields (`reads`): the other 41 of a row are never made into strings, its
 * line is copied to the output with the new field after it.
 */
export function daysUntilExpirationPipeline(input: string, output: string, watch?: Watch): Promise<Summary> {
  const source = csv.read(input);
  return run(
    source,
    addColumn('days_until_expiration', ([issued, expires]: string[]) => daysUntilExpiration(issued, expires), { reads: [4, 12] }),
    csv.write(output, { headers: () => [...(source.headers ?? []), 'days_until_expiration'] }),
    { ...watch },
  );
}
