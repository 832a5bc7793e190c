import { originOf, setOrigin } from './origin.js';

/**
 * A row that passes through as the text it was read from: csv.parse makes one, instead of an
 * array of all its fields, for a line of the rows' width with no quote and no CR, when
 * `run()`/`pipe()` fused it with the one stage that reads only some of its fields
 * (`addColumn({ reads })`, `lookup`, `hashJoin`'s probe side) and the CSV sink that follow it
 * (see lib/pipeline/fuse-text-rows.ts). Only the fields that stage reads are made into
 * strings; the sink copies the text and writes the fields appended after it. Never reaches
 * user code: those three stages are the only ones that see it.
 */
export class TextRow {
  /**
   * The fields appended after the text's (the value `addColumn` added, a lookup's or a join's
   * other side); none until then. Never changed in place: a stage sets a new array, which may
   * be shared by several rows (a lookup's value).
   */
  appended: readonly unknown[] = NO_FIELDS;

  /**
   * @param text - the line without its line break: `width` fields joined by `delimiter`
   * @param edgeSpace - false when no field starts or ends with whitespace (see RawLine)
   * @param reads - the fields the stage reads, in its order
   */
  constructor(
    readonly text: string,
    readonly delimiter: string,
    readonly width: number,
    readonly edgeSpace: boolean,
    readonly reads: readonly string[],
  ) {}

  /** The row's fields (the text holds no quote: it splits at each delimiter), then the appended ones. */
  fields(): unknown[] {
    const fields: unknown[] = this.text.split(this.delimiter);
    for (const value of this.appended) fields.push(value);
    return fields;
  }

  /** This row with `appended` after its fields: itself the first time (nothing appended yet), then copies (`with`): a join's output rows, one per match. */
  appending(appended: readonly unknown[]): TextRow {
    if (this.appended !== NO_FIELDS) return this.with(appended);
    this.appended = appended;
    return this;
  }

  /** The same line (its fields read, its origin) with `appended` after its fields. */
  with(appended: readonly unknown[]): TextRow {
    const row = new TextRow(this.text, this.delimiter, this.width, this.edgeSpace, this.reads);
    row.appended = appended;
    const origin = originOf(this);
    if (origin) setOrigin(row, origin);
    return row;
  }
}

const NO_FIELDS: readonly unknown[] = Object.freeze([]);

/** A text row as the array of its fields, with its origin: the row the unfused pipeline has. */
export function fieldsOf(row: TextRow): unknown[] {
  const fields = row.fields();
  const origin = originOf(row);
  if (origin) setOrigin(fields, origin);
  return fields;
}
