/**
 * How a join's partition files hold a row (pure): a row read by csv.read that still matches
 * its raw line is held as that line — one string, written and read back natively, instead of
 * one value a field — and comes back split at its delimiter with its raw line as its origin
 * again, so that csv.write copies the line instead of formatting it field by field. Any
 * other row is held as itself.
 */
import { originOf, setOrigin } from '../core/origin.js';
import { CsvOrigin } from '../csv/index.js';

/**
 * A partition record, with the row's origin: `[row]` for a row held as itself, or
 * `[line, dialect]` for a CSV line: the codes of its delimiter and quote (one unit each) and
 * its edge-space flag packed in one number (a number beside the string keeps the record off
 * the all-strings encoding, whose per-unit loop is slower for a long line than a native write).
 */
export type SpilledRow = [unknown] | [string, number];

/** Edge-space flags: false, true, not known. */
const EDGE = [false, true, undefined] as const;

export function toSpilled(row: unknown): SpilledRow {
  const origin = originOf(row);
  const raw = CsvOrigin.rawOf(origin);
  let record: SpilledRow;
  if (raw !== undefined && raw.delimiter.length === 1 && raw.quote.length === 1 && Array.isArray(row) && sameFields(row, raw.fields, raw.text.length)) {
    const edge = raw.edgeSpace === undefined ? 2 : raw.edgeSpace ? 1 : 0;
    record = [raw.text, edge + 4 * (raw.delimiter.charCodeAt(0) + 0x10000 * raw.quote.charCodeAt(0))];
  } else {
    record = [row];
  }
  if (origin) setOrigin(record, origin);
  return record;
}

/** Whether `row` holds exactly `fields` (unchanged since parsed), whose text joined by a one-unit delimiter is `length` long. */
function sameFields(row: readonly unknown[], fields: readonly string[], length: number): boolean {
  const n = fields.length;
  if (row.length !== n || n === 0) return false;
  let total = n - 1;
  for (let i = 0; i < n; i++) {
    if (row[i] !== fields[i]) return false;
    total += fields[i]!.length;
  }
  return total === length;
}

/** The row a record holds, with its origin. */
export function fromSpilled(record: SpilledRow): unknown {
  const origin = originOf(record);
  if (record.length === 1) {
    const row = record[0];
    if (origin) setOrigin(row, origin);
    return row;
  }
  const [text, dialect] = record;
  const delimiter = String.fromCharCode((dialect >>> 2) & 0xffff);
  // The line holds no quote and its fields were split at the delimiter: splitting again gives them back.
  const row: string[] = [];
  let at = 0;
  for (let next = text.indexOf(delimiter); next >= 0; next = text.indexOf(delimiter, at)) {
    row.push(text.slice(at, next));
    at = next + 1;
  }
  row.push(text.slice(at));
  const raw = { text, fields: row.slice(), delimiter, quote: String.fromCharCode(Math.floor(dialect / 0x40000)), edgeSpace: EDGE[dialect & 3] };
  setOrigin(row, new CsvOrigin(origin?.source ?? '', origin?.line ?? 0, raw));
  return row;
}
