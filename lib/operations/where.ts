import { ROW_OPTIONS, resolveRowOptions, type RowOptions } from '../core/row-operation.js';
import { checkColumn, type Column, type Row } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { invalid, named } from '../core/validate.js';
import { FilterStage } from './filter.js';

/** A column's wanted value, or the values any of which it may have. */
export type WhereValue = string | number | bigint | boolean | null | undefined;

/** Column (an index of array rows, as a key, or a name of object rows) → wanted value(s). */
export type WhereConditions = Readonly<Record<Column, WhereValue | readonly WhereValue[]>>;

/** One condition: `row[column]` is one of `values` (SameValueZero, as `Array.prototype.includes`). */
export interface WhereCondition {
  readonly column: Column;
  readonly values: readonly WhereValue[];
}

/**
 * The stage `where` makes. `run()`/`pipe()` may tell a csv source right before it (or
 * before a `select` fused into that source) of its conditions (lib/pipeline/fuse-where.ts):
 * the source then drops the rows it can tell fail them from their bytes, counting them as
 * filtered, and never makes their fields into strings. This stage still tests every row
 * that reaches it, so the rows passed on are the same either way.
 */
export class WhereStage<R = Row> extends FilterStage<R> {
  /** The source told of these conditions (by `run()`/`pipe()`), or null. */
  toldTo: string | null = null;

  constructor(
    name: string,
    readonly conditions: readonly WhereCondition[],
    options: RowOptions<R, R>,
  ) {
    super(name, (row) => holds(row as Record<Column, unknown>, conditions), resolveRowOptions<R, R>(name, options, ROW_OPTIONS));
  }
}

function holds(fields: Record<Column, unknown>, conditions: readonly WhereCondition[]): boolean {
  for (const { column, values } of conditions) if (!values.includes(fields[column] as WhereValue)) return false;
  return true;
}

const VALUE_TYPES = new Set(['string', 'number', 'bigint', 'boolean', 'undefined']);

/**
 * Keeps the rows whose columns hold the given values: every condition must hold, and a
 * condition with an array of values holds when the column has any one of them (compared as
 * `Array.prototype.includes` does, so CSV fields, which are strings, match strings only).
 * Keys are column indexes of array rows or names of object rows. Dropped rows are counted
 * as `filtered`. A filter written as data, not as a function: right after a csv source (or
 * a `select` fused into one), the source drops most failing rows from their bytes before
 * making any string of them (array rows, or rows of some columns only).
 *
 * @example
 * where({ 0: 'NJ', 1: 'FORD', 2: 'P' })              // state, make and agency columns
 * where({ 'Registration State': ['NJ', 'NY'] })        // object rows: either state
 */
export function where<R extends Row>(conditions: WhereConditions, options: RowOptions<R, R> = {}): Stage<R, R> {
  const checked = named('where()', () => {
    if (typeof conditions !== 'object' || conditions === null || Array.isArray(conditions) || Object.keys(conditions).length === 0) {
      throw invalid(`Expected \`conditions\` to be an object of column → value(s), with at least one column, got ${JSON.stringify(conditions)}`);
    }
    return Object.entries(conditions).map(([key, value]): WhereCondition => {
      const column = checkColumn(`conditions[${JSON.stringify(key)}]`, /^(0|[1-9]\d*)$/.test(key) ? Number(key) : key);
      const values = Array.isArray(value) ? (value as readonly WhereValue[]) : [value as WhereValue];
      if (values.length === 0) throw invalid(`Expected \`conditions[${JSON.stringify(key)}]\` to be a value or a non-empty array of values, got []`);
      for (const v of values) {
        if (v !== null && !VALUE_TYPES.has(typeof v)) throw invalid(`Expected \`conditions[${JSON.stringify(key)}]\` to hold strings, numbers, booleans or null, got ${typeof v === 'function' ? 'a function' : JSON.stringify(v)}`);
      }
      return { column, values };
    });
  });
  return new WhereStage<R>(`where(${checked.map((c) => c.column).join(', ')})`, checked, options);
}
