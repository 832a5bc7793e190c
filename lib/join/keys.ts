/**
 * Join keys (pure): what `on` accepts, resolved into one key getter per side. A key is a list
 * of values; a row whose key holds `null` or `undefined` has no key (`null`): as in SQL, it
 * never matches. Keys compare with a typed comparator (`compareValues` by default: `5` and
 * `'5'` are different keys) and hash by a typed identity string.
 */
import { keyIdentity } from '../spill/index.js';
import { fail } from '../core/validate.js';
import { TextRow } from '../core/text-row.js';
import { compareValues, type SortColumn, type SortCompare } from '../sort/index.js';

/** One side's key: a column (index or name), a list of columns, or a function of the row. */
export type JoinKey<T> = SortColumn | readonly SortColumn[] | ((row: T) => unknown);

/** The key of both sides: one `JoinKey` for both, or `{ left, right }`. */
export type JoinOn<L, R> = JoinKey<L & R> | { left: JoinKey<L>; right: JoinKey<R> };

export type KeyOf<T> = (row: T) => unknown[] | null;

export type IdOf<T> = (row: T) => string | null;

export interface ResolvedOn<L, R> {
  left: KeyOf<L>;
  right: KeyOf<R>;
  /** Each side's key identity (`keyId` of its key; null for a null key), for hash tables. */
  leftId: IdOf<L>;
  rightId: IdOf<R>;
  /** Column names that are the key on both sides: in an object output they appear once. */
  shared: ReadonlySet<string>;
}

function column(c: unknown, path: string): SortColumn {
  if ((typeof c === 'number' && Number.isInteger(c) && c >= 0) || (typeof c === 'string' && c !== '')) return c;
  return fail(path, 'a column index from 0 and up, a column name or a function', c);
}

interface Getter<T> {
  get: KeyOf<T>;
  id: IdOf<T>;
  columns: SortColumn[] | null;
}

/** The identity of a lone key value (as `keyId([v])`, without the array): a string is its own, the common case. */
function valueId(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' && v.charCodeAt(0) !== 0 ? v : keyId([v]);
}

function keyGetter<T>(key: unknown, path: string): Getter<T> {
  if (typeof key === 'function') {
    const fn = key as (row: T) => unknown;
    return { get: (row) => { const v = fn(row); return v === null || v === undefined ? null : [v]; }, id: (row) => valueId(fn(row)), columns: null };
  }
  const list = Array.isArray(key) ? key : [key];
  if (list.length === 0) fail(path, 'a column, a function or a non-empty list of columns', key);
  const columns = list.map((c, i) => column(c, Array.isArray(key) ? `${path}[${i}]` : path));
  if (columns.length === 1) {
    const c = columns[0]!;
    return { get: (row) => { const v = (row as Record<SortColumn, unknown>)[c]; return v === null || v === undefined ? null : [v]; }, id: (row) => valueId((row as Record<SortColumn, unknown>)[c]), columns };
  }
  const get: KeyOf<T> = (row) => {
    const out = new Array<unknown>(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const v = (row as Record<SortColumn, unknown>)[columns[i]!];
      if (v === null || v === undefined) return null;
      out[i] = v;
    }
    return out;
  };
  return { get, id: (row) => { const k = get(row); return k === null ? null : keyId(k); }, columns };
}

/** Resolves `on`; throws a TypeError naming `path` when it is not a key. */
export function resolveOn<L, R>(on: unknown, path = 'on'): ResolvedOn<L, R> {
  if (on === undefined) fail(path, 'a column, a list of columns, a function or { left, right }', on);
  const split = typeof on === 'object' && on !== null && !Array.isArray(on);
  if (split && !('left' in on && 'right' in on)) fail(path, 'a column, a list of columns, a function or { left, right }', on);
  const l = keyGetter<L>(split ? (on as { left: unknown }).left : on, split ? `${path}.left` : path);
  const r = keyGetter<R>(split ? (on as { right: unknown }).right : on, split ? `${path}.right` : path);
  const shared = new Set<string>();
  l.columns?.forEach((c, i) => {
    if (typeof c === 'string' && r.columns?.[i] === c) shared.add(c);
  });
  if (l.columns && r.columns && l.columns.length !== r.columns.length) {
    fail(`${path}.right`, `a list of ${l.columns.length} column(s), as \`${path}.left\``, (on as { right: unknown }).right);
  }
  return { left: l.get, right: r.get, leftId: l.id, rightId: r.id, shared };
}

/**
 * The left key's column indexes when it is of indexes (a column or a list of them), else null:
 * a TextRow (lib/core/text-row.ts) reading those fields then holds the key.
 */
export function leftIndexes(on: unknown): readonly number[] | null {
  const key = typeof on === 'object' && on !== null && !Array.isArray(on) ? (on as { left: unknown }).left : on;
  const list: unknown[] = Array.isArray(key) ? key : [key];
  return list.every((c) => typeof c === 'number') ? (list as number[]) : null;
}

/** A TextRow's key: the fields it read (a column past the row's end is undefined: no key). */
function textKey(row: TextRow): unknown[] | null {
  const reads = row.reads;
  return reads.includes(undefined as unknown as string) ? null : reads.slice();
}

/** `on` whose left getters take TextRows too, holding the fields at `leftIndexes(on)`: their key is the fields read. */
export function readingText<L, R>(on: ResolvedOn<L, R>): ResolvedOn<L, R> {
  const { left, leftId } = on;
  const textId = (row: TextRow): string | null => {
    if (row.reads.length === 1) return valueId(row.reads[0]);
    const key = textKey(row);
    return key === null ? null : keyId(key);
  };
  return { ...on, left: (row) => (row instanceof TextRow ? textKey(row) : left(row)), leftId: (row) => (row instanceof TextRow ? textId(row) : leftId(row)) };
}

/** Compares two (non-null) keys value by value. */
export function keyComparator(compare: SortCompare = compareValues): (a: unknown[], b: unknown[]) => number {
  return (a, b) => {
    for (let i = 0; i < a.length; i++) {
      const c = compare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  };
}

/**
 * A key's typed identity, for hash tables: equal keys (by `compareValues`) give equal strings,
 * and values of different types never do (`5` is not `'5'`; `-0` is `0`).
 */
export function keyId(key: readonly unknown[]): string {
  // A lone string key is its own identity (the common case); every other identity starts with NUL.
  if (key.length === 1 && typeof key[0] === 'string' && key[0].charCodeAt(0) !== 0) return key[0];
  return '\u0000' + keyIdentity(key);
}

/** FNV-1a of an identity string, with a seed per partitioning level. */
export function hashOf(id: string, seed = 0): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A key as it appears in an error message. */
export function describeKey(key: readonly unknown[] | null): string {
  if (key === null) return 'null';
  const one = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n` : v instanceof Date ? v.toISOString() : String(v));
  return key.length === 1 ? one(key[0]) : `[${key.map(one).join(', ')}]`;
}
