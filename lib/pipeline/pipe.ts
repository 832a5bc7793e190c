import { pipeline, type Readable } from 'node:stream';
import { AbortError } from '../internal/errors.js';
import { allClosed } from './stages.js';
import { wire, type RunOptions } from './run.js';
import type { SourceLike, StageLike } from './stages.js';

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
export function pipe<T = unknown>(...args: [SourceLike, ...(StageLike | RunOptions)[]]): Readable & AsyncIterable<T> {
  const { chain, channel, signal } = wire(args, 'pipe');
  const last = chain.streams[chain.streams.length - 1] as Readable;
  if (typeof last.read !== 'function') {
    for (const stream of chain.all) (stream as Readable).destroy();
    throw new TypeError('pipe() needs a readable last stage; use run() to end in a sink');
  }
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
  return last as Readable & AsyncIterable<T>;
}
