import { invalid } from './validate.js';

/**
 * Reading and writing one column of a row, for array rows (by index) and object rows (by
 * name) alike. Writes never go through a setter: a column named `__proto__` becomes an own
 * property instead of replacing the row's prototype.
 */

export type Column = number | string;
export type Row = readonly unknown[] | Readonly<Record<string, unknown>>;

export function setField(target: Record<string, unknown> | unknown[], column: Column, value: unknown): void {
  if (column === '__proto__') {
    Object.defineProperty(target, column, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (target as Record<Column, unknown>)[column] = value;
  }
}

function describeColumn(column: Column): string {
  return typeof column === 'number' ? `column ${column}` : `column "${column}"`;
}

/** Throws unless `row` has `column`: an index below its length, or an own property. */
export function checkHas(row: unknown, column: Column): void {
  if (typeof column === 'number') {
    if (!Array.isArray(row)) throw new TypeError(`${describeColumn(column)} needs array rows, got ${kindOf(row)}`);
    if (column >= row.length) throw new RangeError(`no ${describeColumn(column)}: the row has ${row.length} column(s)`);
  } else {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TypeError(`${describeColumn(column)} needs object rows, got ${kindOf(row)}`);
    }
    if (!Object.hasOwn(row, column)) throw new RangeError(`no ${describeColumn(column)} in the row`);
  }
}

/** A shallow copy that keeps the row's kind (array or plain object). */
export function copyRow<R extends Row>(row: R): R {
  if (Array.isArray(row)) return row.slice() as unknown as R;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(row)) setField(copy, key, (row as Record<string, unknown>)[key]);
  return copy as R;
}

export function kindOf(row: unknown): string {
  if (Array.isArray(row)) return 'an array';
  if (row === null) return 'null';
  return typeof row === 'object' ? 'an object' : `a ${typeof row}`;
}

export function checkColumn(path: string, column: unknown): Column {
  if ((typeof column === 'number' && Number.isInteger(column) && column >= 0) || (typeof column === 'string' && column !== '')) {
    return column;
  }
  throw invalid(`Expected \`${path}\` to be a column index (integer from 0) or a non-empty column name, got ${JSON.stringify(column)}`);
}
