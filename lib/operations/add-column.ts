import type { RowContext, RowOptions } from '../core/row-operation.js';
import { copyRow, kindOf, setField } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { checkFunction, invalid, named } from '../core/validate.js';
import { mapNamed } from './map.js';

/**
 * A computed column: appends `compute(row)` to array rows, or adds it under `name` to
 * object rows (where `name` must be new). The name also labels errors and rejects.
 * Use `onError: { replaceWith }` for a fallback row when `compute` throws.
 *
 * @example
 * addColumn('days_until_expiration', (row) => daysBetween(row[4], row[12]))
 */
export function addColumn<In extends readonly unknown[] | object, V>(
  name: string,
  compute: (row: In, context: RowContext) => V,
  options: RowOptions<In, In> = {},
): Stage<In, In extends readonly unknown[] ? [...In, V] : In & Record<string, V>> {
  named('addColumn()', () => {
    if (typeof name !== 'string' || name === '') throw invalid(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}`);
    checkFunction('compute', compute);
  });
  type Out = In extends readonly unknown[] ? [...In, V] : In & Record<string, V>;
  return mapNamed<In, Out>(`addColumn(${name})`, (row, context) => {
    if (typeof row !== 'object' || row === null) throw new TypeError(`addColumn() needs array or object rows, got ${kindOf(row)}`);
    if (Array.isArray(row)) return [...row, compute(row, context)] as Out;
    if (Object.hasOwn(row, name)) throw new RangeError(`the row already has a column "${name}" (use set() to overwrite)`);
    const out = copyRow(row as Record<string, unknown>);
    setField(out, name, compute(row, context));
    return out as Out;
  }, options as RowOptions<In, Out>);
}
