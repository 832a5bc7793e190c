/**
 * The row type groupBy gives (types only): the key's fields then one field per aggregation,
 * each typed from what it reads. A column index `n` is the field `key<n>`, a column name is
 * itself, a key function is `key`; a key column's type is the row's (`T[n]`, `T[name]`) when
 * the row type is known, else `unknown`; an aggregation's is its reducer's result. When the
 * key or the aggregations are not literal (a `GroupKey<T>` or `Aggregations<T>` variable, or
 * `groupBy<Row>(…)` with the row type given alone, as TypeScript then infers nothing else),
 * the row degrades to `Record<string, unknown>` or `unknown[]`.
 */
import type { Reducer } from './aggregations.js';
import type { Column, KeyFunction } from './keys.js';

export type GroupKey<T> = Column | readonly Column[] | KeyFunction<T>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Aggregations<T> = Record<string, Reducer<any, unknown, T>>;

type KeyName<C> = C extends number ? `key${C}` : C extends string ? C : never;
type KeyValue<T, C> = unknown extends T ? unknown : C extends keyof T ? T[C] : unknown;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ResultOf<R> = R extends Reducer<any, infer V, any> ? V : unknown;
type Flat<O> = { [P in keyof O]: O[P] } & {};
/** Whether `K` and `A` are literal enough to type the row (a union or a wide type is not). */
type Literal<T, K, A> = string extends keyof A ? false : number extends K ? false : string extends K ? false : Column extends K ? false : true;

type KeyFields<T, K> = K extends (row: never) => infer V
  ? { key: V }
  : K extends readonly Column[]
    ? { [C in K[number] as KeyName<C>]: KeyValue<T, C> }
    : { [C in K & Column as KeyName<C>]: KeyValue<T, C> };

type KeyValues<T, K> = K extends (row: never) => infer V
  ? [V]
  : K extends readonly Column[]
    ? { -readonly [I in keyof K]: KeyValue<T, K[I]> }
    : [KeyValue<T, K>];

/** An output row with `output: 'object'`: the key's fields, then each aggregation's result. */
export type GroupObject<T, K, A> = Literal<T, K, A> extends true ? Flat<KeyFields<T, K> & { [N in keyof A]: ResultOf<A[N]> }> : Record<string, unknown>;

/** An output row with `output: 'array'`: the key's values, then the results (in the aggregations' order). */
export type GroupArray<T, K, A> = Literal<T, K, A> extends true ? [...KeyValues<T, K>, ...ResultOf<A[keyof A]>[]] : unknown[];
