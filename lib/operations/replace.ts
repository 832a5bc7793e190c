import type { RowOptions } from '../core/row-operation.js';
import { checkColumn, checkHas, copyRow, setField, type Column, type Row } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { invalid, named } from '../core/validate.js';
import { mapNamed } from './map.js';

/** Old value → new value, as a plain object, a `Map`, or a function of the value and row. */
export type Replacements<R> =
  | Readonly<Record<string, unknown>>
  | ReadonlyMap<unknown, unknown>
  | ((value: unknown, row: R) => unknown);

/**
 * Replaces values of one column: values found in `replacements` are swapped, others are
 * kept. Each output row is a copy; the input row is not changed. A plain object's keys are
 * strings, so they match string values only (CSV fields); for numbers, booleans or `null`
 * (e.g. PostgreSQL rows) use a `Map`, whose keys match by `SameValueZero`.
 *
 * @example
 * replace(8, { P: 'police', T: 'traffic' })
 * replace('amount', (value) => Number(value))
 */
export function replace<R extends Row>(column: Column, replacements: Replacements<R>, options: RowOptions<R, R> = {}): Stage<R, R> {
  const col = named('replace()', () => checkColumn('column', column));
  let lookup: (value: unknown, row: R) => unknown;
  if (typeof replacements === 'function') {
    lookup = replacements;
  } else if (replacements instanceof Map) {
    lookup = (value) => (replacements.has(value) ? replacements.get(value) : value);
  } else if (typeof replacements === 'object' && replacements !== null && !Array.isArray(replacements)) {
    const table = new Map<unknown, unknown>(Object.entries(replacements));
    lookup = (value) => (table.has(value) ? table.get(value) : value);
  } else {
    named('replace()', () => { throw invalid(`Expected \`replacements\` to be an object, a Map or a function, got ${JSON.stringify(replacements)}`); });
  }
  return mapNamed(`replace(${col})`, (row: R) => {
    checkHas(row, col);
    const out = copyRow(row) as unknown as Record<Column, unknown>;
    setField(out, col, lookup(out[col], row));
    return out as unknown as R;
  }, options);
}
