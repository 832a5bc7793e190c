import type { Duplex, Readable, Writable } from 'node:stream';

// stream-chain's markers by their shape, not its types: importing those would make every
// consumer's type check load stream-chain's declarations, which need a newer @types/node
// than Node 20's (issue 12 §7). `none` and `stop` are unique symbols; `many([...])` holds `values`.
type Marker = symbol;
interface Many<T> {
  readonly values: T[];
}

/**
 * The type-only marker of a stage with known row types (every sluice `Stage<In, Out>` has
 * it): `in` is a parameter type, so a stage that accepts `unknown` fits after anything.
 */
export interface Typed<In, Out> {
  readonly __types?: { in: (row: In) => void; out: Out };
}

/** A stream without row types (stream-chain chains, fs streams, your own Transforms). */
export type Untyped<S> = S & { readonly __types?: never };

type AnyStream = Duplex | Writable | NodeJS.WritableStream;

/**
 * A plain function as a stage, with stream-chain's rules: it may return the row, a promise
 * of it, `none` (drop the row), `stop`, `many([...])`, or be a generator yielding rows.
 */
export type RowFunction<In, Out> = (
  row: In,
) => Out | PromiseLike<Out | Many<Out> | Marker> | Many<Out> | Marker | Generator<Out, unknown, unknown> | AsyncGenerator<Out, unknown, unknown>;

/**
 * What may stand first, giving rows of type `Row`: a Readable (a sluice source such as
 * `csv.read` gives its row type, any other Readable `any`), an (async) iterable, or a
 * function returning either (a generator function).
 */
export type From<Row> = AsyncIterable<Row> | Iterable<Row> | (() => AsyncIterable<Row> | Iterable<Row> | Readable);

/**
 * What may stand after a stage that gives `In`, giving `Out`: a sluice stage (checked), any
 * other stream (not checked), or a plain function.
 */
export type Through<In, Out> = (AnyStream & Typed<In, Out>) | Untyped<AnyStream> | RowFunction<In, Out>;
