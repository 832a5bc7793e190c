import { isBatchingStage, takesBatchesApart } from '../core/fusion.js';
import { RowOperation } from '../core/row-operation.js';
import { isStage } from '../core/stage.js';

/** Internal switch, for tests that compare batched and unbatched pipelines. */
export const rowBatching = { enabled: true };

/** What the gate does with the source's rows: single rows, batches passed whole, or batches taken apart. */
export type GateMode = 'rows' | 'pass' | 'unbatch';

/**
 * Lets stages that produce rows in batches (a csv stage's parsed chunk, a cursor's fetch)
 * push each batch as one stream chunk (see lib/core/row-batch.ts):
 * - the source always: the gate passes its batches whole to a sluice stage, which takes
 *   them apart, and takes them apart itself for anything else (a user's Transform, a plain
 *   Writable, the end of a `pipe()`);
 * - `csv.parse` in the middle, where a sluice stage receives its rows;
 * - row operations that receive the source's batches, down the chain (see below).
 * A stage that receives batches queues one, not 16, before its write() says stop (Node has
 * no other way to weigh a chunk; from then on it only ever receives batches). `streams` are
 * the ones after the gate; returns what the gate does.
 */
export function batchRows(source: unknown, streams: readonly unknown[]): GateMode {
  if (!rowBatching.enabled) return 'rows';
  for (let i = 0; i < streams.length; i++) {
    const [stream, receiver] = [streams[i], streams[i + 1]];
    if (isBatchingStage(stream) && isStage(receiver) && stream.batchRows()) takesBatches(receiver);
  }
  if (!isBatchingStage(source) || !source.batchRows()) return 'rows';
  if (!isStage(streams[0])) return 'unbatch';
  takesBatches(streams[0]);
  // Row operations that receive batches pass their rows on as batches too, down the chain
  // while the next stream takes them apart (a sluice stage, or csv.write's formatter) — but
  // not before a stage that can stop the source (take): a stage would run a whole batch
  // ahead of it, calling its function on rows past the limit (which might fail).
  const stopper = streams.findLastIndex((stream) => typeof (stream as { stopped?: unknown }).stopped === 'boolean');
  for (let i = 0; streams[i] instanceof RowOperation && takesBatchesApart(streams[i + 1]); i++) {
    if (i < stopper) break;
    (streams[i] as RowOperation<unknown, unknown>).batchOutput();
    takesBatches(streams[i + 1]);
  }
  return 'pass';
}

function takesBatches(receiver: unknown): void {
  (receiver as { _writableState: { highWaterMark: number } })._writableState.highWaterMark = 1;
}
