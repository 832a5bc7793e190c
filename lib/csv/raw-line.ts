import type { Origin } from '../core/origin.js';
import { provideRawLineOrigins, type RawLine } from '../core/raw-line.js';

export type { RawLine } from '../core/raw-line.js';

/**
 * The origin of a row read by csv.parse: source and line like any origin, and privately the
 * row's raw line, so that csv.format can copy a row that reaches it unchanged (plus columns
 * appended) instead of formatting it field by field — and, for an object row, the header
 * it was keyed by (one array shared by all rows), so that csv.format writes its columns in
 * the file's order: JavaScript lists integer-like keys (`1`, `10`) first. The private fields
 * keep the origin's public shape `{ source, line }`.
 */
export class CsvOrigin implements Origin {
  readonly #raw: RawLine | undefined;
  readonly #names: readonly string[] | undefined;

  constructor(readonly source: string, readonly line: number, raw?: RawLine, names?: readonly string[]) {
    this.#raw = raw;
    this.#names = names;
  }

  static rawOf(origin: Origin | undefined): RawLine | undefined {
    return origin instanceof CsvOrigin ? origin.#raw : undefined;
  }

  /** The header an object row was keyed by, in the file's order. */
  static namesOf(origin: Origin | undefined): readonly string[] | undefined {
    return origin instanceof CsvOrigin ? origin.#names : undefined;
  }
}

provideRawLineOrigins({ rawOf: (origin) => CsvOrigin.rawOf(origin), make: (source, line, raw) => new CsvOrigin(source, line, raw) });
