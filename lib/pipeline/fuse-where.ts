import { isFilteringSource } from '../core/fusion.js';
import { WhereStage } from '../operations/where.js';

/** Internal switch, for tests that compare fused and unfused pipelines. */
export const whereFusion = { enabled: true };

/**
 * Tells a source that can filter (csv.read/csv.parse with sluice's scanner, nothing read
 * yet) of the conditions of `next`, a `where` right after it (or after a `select` fused
 * into it). The source then drops rows it can tell fail them, counting them as filtered;
 * `where` stays in the pipeline and tests every row that reaches it, so the rows, the
 * summary and the errors are the unfused pipeline's. True if told.
 */
export function fuseWhere(source: unknown, next: unknown): boolean {
  if (!whereFusion.enabled || !isFilteringSource(source) || !(next instanceof WhereStage)) return false;
  if (next.toldTo !== null || next.stats.in !== 0 || next.destroyed || source.whereBlocker() !== null) return false;
  source.fuseWhere(next);
  next.toldTo = source.stage;
  return true;
}
