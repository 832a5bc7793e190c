import { CONCURRENT_OPTIONS, isThenable, type ConcurrentOptions, type RowContext } from '../core/row-operation.js';
import { copyRow, kindOf, setField } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { checkFunction, invalid, named } from '../core/validate.js';
import { mapNamed } from './map.js';

/** The row with `value` as its new last column (a new row: the input is not changed). */
function withColumn<In, Out>(row: In, name: string, value: unknown): Out {
  if (Array.isArray(row)) {
    // Copied at its final size: a spread grows its copy as it iterates (2× the time, 3× the garbage).
    const width = row.length;
    const out = new Array<unknown>(width + 1);
    for (let i = 0; i < width; i++) out[i] = row[i];
    out[width] = value;
    return out as Out;
  }
  const out = copyRow(row as Record<string, unknown>);
  setField(out, name, value);
  return out as Out;
}

/**
 * A computed column: appends `compute(row)` to array rows, or adds it under `name` to
 * object rows (where `name` must be new). The name also labels errors and rejects.
 * `compute` may be async: with `concurrency`, that many rows are computed at once, and
 * with `ordered: false` a row leaves as soon as its value is there (as for `map`).
 * Use `onError: { replaceWith }` for a fallback row when `compute` throws.
 *
 * @example
 * addColumn('days_until_expiration', (row) => daysBetween(row[4], row[12]))
 * addColumn('owner', (row, { signal }) => lookupPlate(row[1], { signal }), { concurrency: 16, ordered: false })
 */
export function addColumn<In extends readonly unknown[] | object, V>(
  name: string,
  compute: (row: In, context: RowContext) => V | PromiseLike<V>,
  options: ConcurrentOptions<In, In> = {},
): Stage<In, In extends readonly unknown[] ? [...In, V] : In & Record<string, V>> {
  named('addColumn()', () => {
    if (typeof name !== 'string' || name === '') throw invalid(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}`);
    checkFunction('compute', compute);
  });
  type Out = In extends readonly unknown[] ? [...In, V] : In & Record<string, V>;
  return mapNamed<In, Out>(`addColumn(${name})`, (row, context) => {
    if (typeof row !== 'object' || row === null) throw new TypeError(`addColumn() needs array or object rows, got ${kindOf(row)}`);
    if (!Array.isArray(row) && Object.hasOwn(row, name)) throw new RangeError(`the row already has a column "${name}" (use set() to overwrite)`);
    const value = compute(row, context);
    return isThenable(value) ? Promise.resolve(value).then((v) => withColumn<In, Out>(row, name, v)) : withColumn<In, Out>(row, name, value);
  }, options as ConcurrentOptions<In, Out>, CONCURRENT_OPTIONS);
}
