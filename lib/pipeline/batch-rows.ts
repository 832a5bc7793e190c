import { CsvParseStage } from '../operations/csv-parse.js';
import { isStage } from '../internal/stage.js';

/** Internal switch, for tests that compare batched and unbatched pipelines. */
export const rowBatching = { enabled: true };

/**
 * Lets each csv stage (the source, or `csv.parse` in the middle) push its rows in batches
 * (see lib/internal/row-batch.ts) where the stream that receives them is a sluice stage,
 * which takes them apart again; the source's rows pass the gate whole. Anywhere else (a
 * user's Transform, a plain Writable, the end of a `pipe()`) rows stay single. `streams`
 * are the ones after the gate; returns whether the source sends batches.
 */
export function batchRows(source: unknown, streams: readonly unknown[]): boolean {
  if (!rowBatching.enabled) return false;
  const receivers = new Map<unknown, unknown>([[source, streams[0]]]);
  for (let i = 0; i < streams.length; i++) receivers.set(streams[i], streams[i + 1]);
  for (const [stream, receiver] of receivers) {
    if (stream instanceof CsvParseStage && isStage(receiver)) {
      stream.batchRows();
      // The receiver queues one batch, not 16, before its write() says stop. (Node has no
      // other way to weigh a chunk; the stage only ever receives batches from now on.)
      (receiver as unknown as { _writableState: { highWaterMark: number } })._writableState.highWaterMark = 1;
    }
  }
  return source instanceof CsvParseStage && isStage(streams[0]);
}
