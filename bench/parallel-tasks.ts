/**
 * Row functions for bench/parallel.ts, loaded by worker threads: `default` for
 * `parallel.map` (one row), `rows` and `row` as piscina task handlers (a batch, one row).
 * Each adds one field to the row: the round trip is what is measured.
 */
export default function tag(row: string[]): string[] {
  return [...row, row[0]!];
}

export const rows = (batch: string[][]): string[][] => batch.map(tag);
export const row = tag;
