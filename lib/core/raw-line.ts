/**
 * A row's source text, for writing it back unchanged (csv.parse keeps it, csv.format copies
 * it), and the seam through which stages that are not CSV's keep it: a spill file stores an
 * unchanged row as its line and gives it back with that line in its origin again. Only the
 * csv capability makes such origins; it provides them here (`provideRawLineOrigins`), so that
 * lib/spill names no capability.
 */
import { originOf, type Origin } from './origin.js';

/**
 * `text` is the line without its line break, `fields` what the scanner made of it (a copy, so
 * a row changed in place later is noticed), split at `delimiter`, with no `quote` in it.
 */
export interface RawLine {
  readonly text: string;
  readonly fields: readonly string[];
  readonly delimiter: string;
  readonly quote: string;
  /** false when the parser saw that no field starts or ends with whitespace (then no field needs checking); undefined when not known. */
  readonly edgeSpace?: boolean;
}

interface RawLineOrigins {
  rawOf(origin: Origin | undefined): RawLine | undefined;
  make(source: string, line: number, raw: RawLine): Origin;
}

let provided: RawLineOrigins | null = null;

/** Called once by the csv capability as it loads. */
export function provideRawLineOrigins(origins: RawLineOrigins): void {
  provided = origins;
}

/** The raw line an origin carries, if any. */
export function rawLineOf(origin: Origin | undefined): RawLine | undefined {
  return provided === null ? undefined : provided.rawOf(origin);
}

/** An origin `{ source, line }` that carries `raw` (a plain one if no capability keeps raw lines). */
export function originWithRawLine(source: string, line: number, raw: RawLine): Origin {
  return provided === null ? { source, line } : provided.make(source, line, raw);
}

/**
 * The raw line of a row that still holds exactly that line's fields (the same strings, none
 * added, removed or changed in place: the row a CSV reader made), else undefined.
 */
export function unchangedRawLine(row: unknown, origin: Origin | undefined = originOf(row)): RawLine | undefined {
  const raw = rawLineOf(origin);
  if (raw === undefined || !Array.isArray(row) || row.length !== raw.fields.length) return undefined;
  const { fields } = raw;
  for (let i = 0; i < fields.length; i++) if (row[i] !== fields[i]) return undefined;
  return raw;
}
