import { pipeline, type Readable, type Writable } from 'node:stream';
import { destinationClosed } from './destination.js';
import { AbortError } from '../core/errors.js';
import { allClosed } from './stages.js';
import { wire, type RunOptions } from './run.js';
import type { StageLike } from './stages.js';
import type { From, Through } from './typed.js';

/**
 * Joins a source and stages into one Readable to pull rows from yourself, like
 * `next(generator)`: `for await (const row of pipe(...)) { … break; }`. Breaking out (or
 * destroying the result) destroys every stage and releases the source. Errors of any
 * stage surface on the returned stream. Options as in `run()` (`signal`, `rejects`,
 * `maxRejects`).
 *
 * @example
 * for await (const row of pipe(csv.read('big.csv'), filter((r) => r[8] === 'P'))) {
 *   if (done(row)) break;
 * }
 */
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any, S12 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, s12: Through<S11, S12>, ...rest: (StageLike | RunOptions)[]): Readable & AsyncIterable<unknown>;
// Typed overloads, one per stage count (most stages first: TypeScript types the stages'
// callbacks, e.g. `filter((row) => …)`, against the first overload of the right arity it
// tries, and a trailing options object is the rarer case). Each stage must accept what the
// one before gives (`Through<In, Out>`); untyped streams fit anywhere (their output is
// whatever the next stage accepts). Past 12 stages the rest are accepted unchecked.
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any, S12 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, s12: Through<S11, S12>, options?: RunOptions): Readable & AsyncIterable<S12>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, options?: RunOptions): Readable & AsyncIterable<S11>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, options?: RunOptions): Readable & AsyncIterable<S10>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, options?: RunOptions): Readable & AsyncIterable<S9>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, options?: RunOptions): Readable & AsyncIterable<S8>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, options?: RunOptions): Readable & AsyncIterable<S7>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, options?: RunOptions): Readable & AsyncIterable<S6>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, options?: RunOptions): Readable & AsyncIterable<S5>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any, S4 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, options?: RunOptions): Readable & AsyncIterable<S4>;
export function pipe<A = any, S1 = any, S2 = any, S3 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, options?: RunOptions): Readable & AsyncIterable<S3>;
export function pipe<A = any, S1 = any, S2 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, options?: RunOptions): Readable & AsyncIterable<S2>;
export function pipe<A = any, S1 = any>(source: From<A>, s1: Through<A, S1>, options?: RunOptions): Readable & AsyncIterable<S1>;
export function pipe<A = any>(source: From<A>, options?: RunOptions): Readable & AsyncIterable<A>;
export function pipe(...args: unknown[]): Readable & AsyncIterable<unknown> {
  const { chain, channel, signal } = wire(args, 'pipe');
  const last = chain.streams[chain.streams.length - 1] as Readable;
  if (typeof last.read !== 'function') {
    for (const stream of chain.all) (stream as Readable).destroy();
    throw new TypeError('pipe() needs a readable last stage; use run() to end in a sink');
  }
  watchDestinations(last);
  const onAbort = () => chain.gate.destroy(new AbortError(signal?.reason));
  // Already aborted: fail before a single row flows (on a later tick, rows would have).
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const done = (error?: Error | null) => {
    signal?.removeEventListener('abort', onAbort);
    void allClosed(chain.all)
      .then(() => channel.close(Boolean(error)))
      .catch((closeError: unknown) => last.destroy(closeError as Error));
  };
  if (chain.streams.length === 1) {
    chain.gate.once('close', () => done(chain.gate.errored));
  } else {
    (pipeline as (...a: unknown[]) => void)(...chain.streams, done);
  }
  return last as Readable & AsyncIterable<unknown>;
}

/**
 * Whatever the result is piped into (`.pipe(res)`, or `stream.pipeline(pipe(…), res)`,
 * which pipes too): should that destination close before the result has ended (a client
 * gone mid-download), the result is destroyed with the AbortError `run()` gives (cause:
 * "destination closed before the pipeline finished"), so every stage closes — with a bare
 * `.pipe(res)`, Node would only unpipe and leave the cursor or file open, paused forever.
 * (The caller's own stream.pipeline still rejects with Node's premature close: it decided
 * so before any stream reported.)
 */
function watchDestinations(result: Readable): void {
  const pipeTo = result.pipe;
  result.pipe = function <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const sink = destination as unknown as Writable;
    // First among the destination's 'close' listeners: stream.pipeline's own would destroy
    // the result with a bare premature close before ours ran.
    if (typeof sink.prependOnceListener === 'function') {
      sink.prependOnceListener('close', () => {
        if (!result.readableEnded && !result.destroyed && !sink.writableFinished) result.destroy(destinationClosed());
      });
    }
    return pipeTo.call(this, destination, options) as T;
  };
}
