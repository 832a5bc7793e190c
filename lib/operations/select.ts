import type { RowOptions } from '../internal/row-operation.js';
import { checkColumn, checkHas, setField, type Column } from '../internal/rows.js';
import type { Stage } from '../internal/stage.js';
import { mapNamed } from './map.js';

/**
 * Keeps only the given columns, in the given order: indexes for array rows, names for
 * object rows. A row that lacks one of them fails (or is rejected, see `onError`).
 *
 * @example
 * select([2, 7, 8, 23, 24])                 // ['NJ', 'FORD', 'P', '12', 'MAIN ST']
 * select(['Plate ID', 'Registration State']) // { 'Plate ID': …, 'Registration State': … }
 */
export function select<In extends readonly unknown[]>(columns: readonly number[], options?: RowOptions<In, In[number][]>): Stage<In, In[number][]>;
// K first, so `select(['a', 'b'])` infers the names; the row type then defaults to them.
export function select<K extends string, In extends Readonly<Record<K, unknown>> = Record<K, unknown>>(
  columns: readonly K[],
  options?: RowOptions<In, Pick<In, K>>,
): Stage<In, Pick<In, K>>;
export function select(columns: readonly Column[], options: RowOptions<unknown, unknown> = {}): Stage<unknown, unknown> {
  if (!Array.isArray(columns) || columns.length === 0) {
    throw new TypeError(`Expected \`columns\` to be a non-empty array of column indexes or names, got ${JSON.stringify(columns)}`);
  }
  const cols = columns.map((c, i) => checkColumn(`columns[${i}]`, c));
  const byIndex = typeof cols[0] === 'number';
  if (cols.some((c) => (typeof c === 'number') !== byIndex)) {
    throw new TypeError('Expected `columns` to be all indexes or all names, not a mix');
  }
  const name = `select(${cols.join(',')})`;
  if (byIndex) {
    const indexes = cols as number[];
    const width = Math.max(...indexes) + 1;
    return mapNamed(name, (row: unknown) => {
      if (!Array.isArray(row) || row.length < width) checkHas(row, width - 1);
      const out = new Array<unknown>(indexes.length);
      for (let i = 0; i < indexes.length; i++) out[i] = (row as unknown[])[indexes[i]];
      return out;
    }, options);
  }
  return mapNamed(name, (row: unknown) => {
    const out: Record<string, unknown> = {};
    for (const column of cols as string[]) {
      checkHas(row, column);
      setField(out, column, (row as Record<string, unknown>)[column]);
    }
    return out;
  }, options);
}
