/**
 * Aggregations for `groupBy` (pure): each is a reducer `{ init, add, merge?, result }` over
 * one group's rows. The built-ins read one column (index or name) or a function of the row.
 */
import { compareValues, type Column, type KeyFunction } from './keys.js';
import { keyIdentity as identity } from '../spill/index.js';
import type { Slots } from './group-table.js';

/** Where a built-in reducer keeps the form of its state that lives in a few doubles (group-table.ts). */
export const SLOTS = Symbol('slots');

/** A built-in reducer whose state is a few numbers. */
const slotted = <S, R, T>(reducer: Reducer<S, R, T>, slots: Slots<T>): Reducer<S, R, T> => Object.assign(reducer, { [SLOTS]: slots });

/** The reducer's slots, when its state lives in a few doubles. */
export const slotsOf = <T>(reducer: Reducer<unknown, unknown, T>): Slots<T> | undefined => (reducer as { [SLOTS]?: Slots<T> })[SLOTS];

/** A user reducer: `init()` a group's state, `add` a row to it, `result` at the end. */
export interface Reducer<S = unknown, R = unknown, T = unknown> {
  init(): S;
  add(state: S, row: T): S;
  /** Combines two states of the same group (not needed by sluice's own groupBy yet). */
  merge?(a: S, b: S): S;
  result(state: S): R;
  /**
   * Bytes a state holds that grow with its group's rows (countDistinct's set of values), for
   * groupBy's budget; a reducer without it holds a fixed-size state.
   */
  bytes?(state: S): number;
}

const getter = <T>(column: Column | KeyFunction<T>): KeyFunction<T> =>
  typeof column === 'function' ? column : typeof column === 'number' ? (row) => (row as unknown[])[column] : (row) => (row as Record<string, unknown>)[column];

/** Estimated bytes per value in a countDistinct set (V8: table entry and a short string). */
const DISTINCT_VALUE_BYTES = 72;

const numberOf = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? stringNumber(v) : v == null ? NaN : Number(v));

/**
 * A string as `Number` reads it, NaN when blank. Up to 9 ASCII digits (a CSV count or amount in
 * feet: most fields summed) are read by a loop, exactly: `Number` on a string just parsed costs
 * a runtime call each (measured: 60 ms of a 1 M-row sum, ~10% of the whole group-by).
 */
function stringNumber(v: string): number {
  const length = v.length;
  if (length > 0 && length < 10) {
    let n = 0;
    let i = 0;
    for (; i < length; i++) {
      const digit = v.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    if (i === length) return n;
  }
  return v.trim() === '' ? NaN : Number(v);
}

/** The built-in aggregations. Nulls and empty strings are skipped by sum/min/max/avg/countDistinct. */
export const agg = {
  /** Rows in the group. */
  count: <T = unknown>(): Reducer<number, number, T> => slotted({ init: () => 0, add: (s) => s + 1, merge: (a, b) => a + b, result: (s) => s }, {
    width: 1,
    add: (s, at) => { s[at]++; },
    state: (s, at) => s[at],
  }),
  /** Sum of a column as numbers (numeric strings are converted). */
  sum: <T = unknown>(column: Column | KeyFunction<T>): Reducer<number, number, T> => {
    const get = getter(column);
    return slotted({ init: () => 0, add: (s, row) => { const n = numberOf(get(row)); return Number.isNaN(n) ? s : s + n; }, merge: (a, b) => a + b, result: (s) => s }, {
      width: 1,
      add: (s, at, row) => { const n = numberOf(get(row)); if (!Number.isNaN(n)) s[at] += n; },
      state: (s, at) => s[at],
    });
  },
  /** Mean of a column as numbers; null for a group with none. */
  avg: <T = unknown>(column: Column | KeyFunction<T>): Reducer<[number, number], number | null, T> => {
    const get = getter(column);
    return slotted<[number, number], number | null, T>({
      init: () => [0, 0],
      add: (s, row) => { const n = numberOf(get(row)); if (!Number.isNaN(n)) { s[0] += n; s[1]++; } return s; },
      merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
      result: (s) => (s[1] === 0 ? null : s[0] / s[1]),
    }, {
      width: 2,
      add: (s, at, row) => { const n = numberOf(get(row)); if (!Number.isNaN(n)) { s[at] += n; s[at + 1]++; } },
      state: (s, at) => [s[at], s[at + 1]],
    });
  },
  /** Smallest value of a column (in sort()'s default order); null for none. */
  min: <T = unknown>(column: Column | KeyFunction<T>): Reducer<unknown, unknown, T> => extreme(getter(column), -1),
  /** Largest value of a column; null for none. */
  max: <T = unknown>(column: Column | KeyFunction<T>): Reducer<unknown, unknown, T> => extreme(getter(column), 1),
  /** The column's value in the group's first row. */
  first: <T = unknown>(column: Column | KeyFunction<T>): Reducer<{ v?: unknown }, unknown, T> => {
    const get = getter(column);
    return { init: () => ({}), add: (s, row) => ('v' in s ? s : { v: get(row) }), merge: (a, b) => ('v' in a ? a : b), result: (s) => s.v ?? null };
  },
  /** The column's value in the group's last row. */
  last: <T = unknown>(column: Column | KeyFunction<T>): Reducer<{ v?: unknown }, unknown, T> => {
    const get = getter(column);
    return { init: () => ({}), add: (_s, row) => ({ v: get(row) }), merge: (a, b) => ('v' in b ? b : a), result: (s) => s.v ?? null };
  },
  /**
   * Distinct non-null values of a column (exact; the set is held in memory per group, and
   * counted in groupBy's budget as it grows).
   */
  countDistinct: <T = unknown>(column: Column | KeyFunction<T>): Reducer<Set<string>, number, T> => {
    const get = getter(column);
    return {
      init: () => new Set(),
      add: (s, row) => { const v = get(row); if (v != null && v !== '') s.add(identity([v])); return s; },
      merge: (a, b) => { for (const v of b) a.add(v); return a; },
      result: (s) => s.size,
      // A Set entry (about 3 slots of its table at its load factor) and a short string.
      bytes: (s) => s.size * DISTINCT_VALUE_BYTES,
    };
  },
};

function extreme<T>(get: KeyFunction<T>, sign: 1 | -1): Reducer<unknown, unknown, T> {
  const none = Symbol('none');
  return {
    init: () => none,
    add: (s, row) => {
      const v = get(row);
      if (v == null || v === '') return s;
      return s === none || sign * compareValues(v, s) > 0 ? v : s;
    },
    result: (s) => (s === none ? null : s),
  };
}
