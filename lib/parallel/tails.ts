/**
 * The common row function appends columns to an array row (`[...row, key]`): its result is
 * then sent back as the appended values only, since the main thread still holds the row —
 * half of what would cross back for one added column. Only when the result starts with the
 * row's values as they were before the call (`Object.is`, so -0 and NaN too), and those are
 * all primitives (an object could have been changed in place, or be meant as a new one).
 * Pure; the worker side makes tails, the stage side puts rows back together.
 */

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

/** What `out` appends to the row `before` was taken of, or null when it does not just append. */
export function tailOf(before: unknown[] | null, out: unknown): unknown[] | null {
  if (before === null || !Array.isArray(out) || out.length < before.length) return null;
  for (let i = 0; i < before.length; i++) if (!Object.is(before[i], out[i])) return null;
  return out.slice(before.length);
}

/** The outputs again from the rows and their tails (null for a failed row). */
export function withTails(rows: readonly unknown[], tails: readonly (unknown[] | null)[]): unknown[] {
  const outputs = new Array<unknown>(tails.length);
  for (let i = 0; i < tails.length; i++) {
    const tail = tails[i];
    if (tail === null) {
      outputs[i] = null;
      continue;
    }
    const out = (rows[i] as unknown[]).slice();
    for (let j = 0; j < tail.length; j++) out.push(tail[j]);
    outputs[i] = out;
  }
  return outputs;
}
