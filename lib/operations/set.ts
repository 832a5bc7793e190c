import type { RowOptions } from '../core/row-operation.js';
import { checkColumn, copyRow, kindOf, setField, type Column, type Row } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { named } from '../core/validate.js';
import { mapNamed } from './map.js';

/**
 * Sets one column of every row to a value, or to `value(row, index)`: an existing column is
 * overwritten, a new one added (for array rows, an index up to the row's length, which
 * appends). Each output row is a copy.
 *
 * @example
 * set(8, 'police')
 * set('address', (row) => [row.house, row.street, row.state].join(', '))
 */
export function set<R extends Row>(column: Column, value: unknown, options: RowOptions<R, R> = {}): Stage<R, R> {
  const col = named('set()', () => checkColumn('column', column));
  const compute = typeof value === 'function' ? (value as (row: R, index: number) => unknown) : () => value;
  return mapNamed(`set(${col})`, (row: R, { index }) => {
    if (typeof col === 'number' ? !Array.isArray(row) : typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TypeError(`set(${col}) needs ${typeof col === 'number' ? 'array' : 'object'} rows, got ${kindOf(row)}`);
    }
    if (typeof col === 'number' && col > (row as readonly unknown[]).length) {
      throw new RangeError(`cannot set column ${col}: the row has ${(row as readonly unknown[]).length} column(s)`);
    }
    const out = copyRow(row);
    setField(out as Record<string, unknown>, col, compute(row, index));
    return out;
  }, options);
}
