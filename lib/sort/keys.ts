/**
 * Sort keys (pure): what `by` accepts, resolved into one comparator of rows. A key is a
 * column (index for array rows, name for object rows) or a function of the row; each key
 * sorts ascending unless `order: 'desc'`, with its own `compare` if given.
 */
import { TextRow } from '../core/text-row.js';
import { fail } from '../core/validate.js';

export type Column = number | string;
export type KeyFunction<T> = (row: T) => unknown;
export type Compare = (a: any, b: any) => number; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One sort key with its direction and comparator. */
export interface SortKey<T = unknown> {
  key: Column | KeyFunction<T>;
  /** @default 'asc' */
  order?: 'asc' | 'desc';
  /** Compares two key values; @default {@link compareValues} */
  compare?: Compare;
}

export type SortBy<T = unknown> = Column | KeyFunction<T> | SortKey<T> | readonly (Column | KeyFunction<T> | SortKey<T>)[];

/** Rank of a value's type for mixed-type keys: numbers < bigints < strings < booleans < dates < other < null/undefined. */
function rank(v: unknown): number {
  switch (typeof v) {
    case 'number': return 0;
    case 'bigint': return 1;
    case 'string': return 2;
    case 'boolean': return 3;
    case 'undefined': return 7;
    default: return v === null ? 7 : v instanceof Date ? 4 : 5;
  }
}

/**
 * The default key order: numbers numerically (NaN after every number), bigints numerically,
 * strings by UTF-16 code unit (as `Array.prototype.sort`), false before true, Dates by time;
 * values of different types by type in that order; null and undefined last.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) {
    const x = a as number;
    const y = b as number;
    if (x < y) return -1;
    if (x > y) return 1;
    const nx = Number.isNaN(x);
    const ny = Number.isNaN(y);
    return nx === ny ? 0 : nx ? 1 : -1;
  }
  if (ra === 4) return compareValues((a as Date).getTime(), (b as Date).getTime());
  if (ra === 7 || ra === 5) return 0;
  return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
}

function keyGetter<T>(key: Column | KeyFunction<T>, path: string): KeyFunction<T> {
  if (typeof key === 'function') return key;
  if (typeof key === 'number') {
    if (!Number.isInteger(key) || key < 0) fail(path, 'a column index from 0 and up, a column name or a function', key);
    return (row) => (row as unknown[])[key];
  }
  if (typeof key === 'string') return (row) => (row as Record<string, unknown>)[key];
  return fail(path, 'a column index from 0 and up, a column name or a function', key);
}

/** One resolved key: how to read it from a row, its direction (1 or -1) and comparator. */
export interface ResolvedKey<T> {
  get: KeyFunction<T>;
  sign: 1 | -1;
  cmp: Compare;
}

/** Resolves `by` into its keys, in turn; throws on a bad key naming its path. */
export function sortKeys<T>(by: SortBy<T>, compare: Compare | undefined, path = 'by'): ResolvedKey<T>[] {
  const list = Array.isArray(by) ? by : [by];
  if (list.length === 0) fail(path, 'a column, a function or a non-empty list of them', by);
  return list.map((k: Column | KeyFunction<T> | SortKey<T>, i): ResolvedKey<T> => {
    const at = Array.isArray(by) ? `${path}[${i}]` : path;
    if (typeof k === 'object' && k !== null) {
      if (k.order !== undefined && k.order !== 'asc' && k.order !== 'desc') fail(`${at}.order`, "'asc' or 'desc'", k.order);
      if (k.compare !== undefined && typeof k.compare !== 'function') fail(`${at}.compare`, 'a function', k.compare);
      return { get: keyGetter(k.key, `${at}.key`), sign: k.order === 'desc' ? -1 : 1, cmp: k.compare ?? compare ?? compareValues };
    }
    return { get: keyGetter(k, at), sign: 1, cmp: compare ?? compareValues };
  });
}

/** The column indexes `by` names, in order, when it names only column indexes (else null). */
export function keyColumns<T>(by: SortBy<T>): number[] | null {
  const list = Array.isArray(by) ? by : [by];
  const columns = list.map((k: Column | KeyFunction<T> | SortKey<T>) => (typeof k === 'object' && k !== null ? k.key : k));
  return columns.every((c) => typeof c === 'number') ? (columns as number[]) : null;
}

/**
 * The keys, reading a text row's key `k` from its fields read (lib/core/text-row.ts: a sort
 * given text rows gave `keyColumns` as the fields to read, in the keys' order).
 */
export function textRowKeys<T>(keys: readonly ResolvedKey<T>[]): ResolvedKey<T>[] {
  return keys.map((key, k) => ({ ...key, get: (row: T) => (row instanceof TextRow ? row.reads[k] : key.get(row)) }));
}

/** Resolves `by` into a comparator of rows; throws on a bad key naming its path. */
export function rowComparator<T>(by: SortBy<T>, compare: Compare | undefined, path = 'by'): (a: T, b: T) => number {
  return keysComparator(sortKeys(by, compare, path));
}

/** A comparator of rows by resolved keys, in turn. */
export function keysComparator<T>(keys: readonly ResolvedKey<T>[]): (a: T, b: T) => number {
  if (keys.length === 1) {
    const { get, sign, cmp } = keys[0]!;
    return (a, b) => sign * cmp(get(a), get(b));
  }
  return (a, b) => {
    for (const { get, sign, cmp } of keys) {
      const c = cmp(get(a), get(b));
      if (c !== 0) return sign * c;
    }
    return 0;
  };
}
