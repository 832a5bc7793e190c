import { isTextRowReader, isTextRowSource, isTextRowWriter } from '../core/fusion.js';

/** Internal switch, for tests that compare fused and unfused pipelines. */
export const textRowFusion = { enabled: true };

/**
 * `csv.read(…)`, then one stage that reads only some fields (`addColumn(name, fn, { reads })`,
 * a join of the default output keyed by indexes, sort), then a CSV sink, and nothing else:
 * the source passes each row it can on as its text (see lib/core/text-row.ts), making only
 * the fields the stage reads into strings, and the sink writes that text back plus the fields appended.
 * The file written, the summary and the errors are the unfused pipeline's. True if fused.
 */
export function fuseTextRows(source: unknown, streams: readonly unknown[]): boolean {
  if (!textRowFusion.enabled || streams.length !== 2) return false;
  const [stage, sink] = streams;
  if (!isTextRowSource(source) || !isTextRowReader(stage) || !isTextRowWriter(sink)) return false;
  const reads = stage.textRowReads();
  if (reads === null || stage.stats.in !== 0 || source.textRowsBlocker() !== null) return false;
  source.passTextRows(reads);
  return true;
}
