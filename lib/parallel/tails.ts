/**
 * The common row function appends columns to an array row (`[...row, key]`): its result is
 * then sent back as the appended values only, since the main thread still holds the row —
 * half of what would cross back for one added column. Only when the result starts with the
 * row's values as they were before the call (`Object.is`, so -0 and NaN too), and those are
 * all primitives (an object could have been changed in place, or be meant as a new one).
 * Pure; the worker side collects tails (TailCollector), the stage side puts rows back
 * together (withTails).
 *
 * The tails of a batch cross as one flat array of values, not one array a row: one object
 * for the clone to walk instead of a thousand, on both sides. When every row appended the
 * same number of values (the usual case) that one `width` says where each row's tail starts;
 * otherwise `widths` gives each row's.
 */

/** How a batch's flat tail values divide among its rows: one width for all, or each row's. */
export type TailShape = number | readonly number[];

/** The row's values before the call, when the row is an array of primitives; else null. */
export function snapshot(row: unknown): unknown[] | null {
  if (!Array.isArray(row)) return null;
  for (let i = 0; i < row.length; i++) {
    const value: unknown = row[i];
    if (typeof value === 'object' && value !== null) return null;
    if (typeof value === 'function' || !(i in row)) return null;
  }
  return row.slice();
}

/** Whether `out` starts with the values of `before` (a snapshot), so that what follows is all it appends. */
function appends(before: unknown[] | null, out: unknown): out is unknown[] {
  if (before === null || !Array.isArray(out) || out.length < before.length) return false;
  for (let i = 0; i < before.length; i++) if (!Object.is(before[i], out[i])) return false;
  return true;
}

/**
 * A batch's tails as the worker collects them, row by row, while every result only appends.
 * A failed row's place holds `width` nulls (the stage never reads a failed row's output).
 */
export class TailCollector {
  /** Every row's tail, back to back. */
  readonly values: unknown[] = [];
  /** The width of every tail so far (-1 before the first), until they differ: then `widths`. */
  private width = -1;
  private widths: number[] | null = null;
  /** Rows so far, and failed rows before the first width was known (their nulls wait for it). */
  private rows = 0;
  private pendingFailed = 0;

  /** Adds the tail `out` appends to the row `before` was taken of; false (nothing added) when it does not just append. */
  add(before: unknown[] | null, out: unknown): boolean {
    if (!appends(before, out)) return false;
    const width = out.length - before!.length;
    if (this.width === -1) {
      this.width = width;
      for (let i = this.pendingFailed * width; i > 0; i--) this.values.push(null);
    } else if (this.widths === null && width !== this.width) {
      this.widths = new Array<number>(this.rows).fill(this.width);
    }
    this.widths?.push(width);
    for (let i = before!.length; i < out.length; i++) this.values.push(out[i]);
    this.rows++;
    return true;
  }

  /** A failed row's place. */
  addFailed(): void {
    if (this.width === -1) this.pendingFailed++;
    else for (let i = 0; i < this.width; i++) this.values.push(null);
    this.widths?.push(this.width);
    this.rows++;
  }

  /** How `values` divide among the rows. */
  get shape(): TailShape {
    return this.widths ?? Math.max(0, this.width);
  }
}

/**
 * The outputs again from the rows and their tails (flat `values`, divided by `shape`), for
 * the first `count` rows. Each output is made at its final size at once, not copied and grown.
 */
export function withTails(rows: readonly unknown[], values: readonly unknown[], shape: TailShape, count: number): unknown[] {
  const outputs = new Array<unknown>(count);
  for (let i = 0, at = 0; i < count; i++) {
    const row = rows[i];
    const width = typeof shape === 'number' ? shape : shape[i];
    // A failed row holds nulls (and may be no array): the stage never reads its output.
    if (!Array.isArray(row)) {
      outputs[i] = null;
      at += width;
      continue;
    }
    const length = row.length;
    const out = new Array<unknown>(length + width);
    for (let j = 0; j < length; j++) out[j] = row[j];
    for (let j = 0; j < width; j++) out[length + j] = values[at + j];
    at += width;
    outputs[i] = out;
  }
  return outputs;
}
