import type { Origin } from '../core/origin.js';

/**
 * A parsed row's source text, for writing it back unchanged: `text` is the line without its
 * line break, `fields` what the scanner made of it (a copy, so a row changed in place later
 * is noticed), split at `delimiter`, with no `quote` in it.
 */
export interface RawLine {
  readonly text: string;
  readonly fields: readonly string[];
  readonly delimiter: string;
  readonly quote: string;
}

/**
 * The origin of a row read by csv.parse: source and line like any origin, and privately the
 * row's raw line, so that csv.format can copy a row that reaches it unchanged (plus columns
 * appended) instead of formatting it field by field. The private field keeps the origin's
 * public shape `{ source, line }`.
 */
export class CsvOrigin implements Origin {
  readonly #raw: RawLine | undefined;

  constructor(readonly source: string, readonly line: number, raw?: RawLine) {
    this.#raw = raw;
  }

  static rawOf(origin: Origin | undefined): RawLine | undefined {
    return origin instanceof CsvOrigin ? origin.#raw : undefined;
  }
}
