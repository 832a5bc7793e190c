/**
 * A row that passes through as the text it was read from: csv.parse makes one, instead of an
 * array of all its fields, for a line of the rows' width with no quote and no CR, when
 * `run()`/`pipe()` fused it with the one `addColumn({ reads })` and the CSV sink that follow
 * it (see lib/pipeline/fuse-text-rows.ts). Only the fields `addColumn` reads are made into
 * strings; the sink copies the text and writes the added value after it. Never reaches user
 * code: those three stages are the only ones that see it.
 */
export class TextRow {
  /** The value `addColumn` added (appended after the text's fields); `NOTHING` until then. */
  added: unknown = NOTHING;

  /**
   * @param text - the line without its line break: `width` fields joined by `delimiter`
   * @param edgeSpace - false when no field starts or ends with whitespace (see RawLine)
   * @param reads - the fields `addColumn` reads, in its order
   */
  constructor(
    readonly text: string,
    readonly delimiter: string,
    readonly width: number,
    readonly edgeSpace: boolean,
    readonly reads: readonly string[],
  ) {}

  /** The row's fields (the text holds no quote: it splits at each delimiter), then the added value. */
  fields(): unknown[] {
    const fields: unknown[] = this.text.split(this.delimiter);
    if (this.added !== NOTHING) fields.push(this.added);
    return fields;
  }
}

/** No value added yet (undefined is a value a function may return). */
export const NOTHING: unique symbol = Symbol('nothing');
