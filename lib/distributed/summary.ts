/** Adding up what splits did. */
import type { DistributedSummary, SplitSummary } from './split.js';

export function totals(splits: SplitSummary[], failed: number, started: number): DistributedSummary {
  const sum = (pick: (s: SplitSummary) => number) => splits.reduce((n, s) => n + (s.skipped ? 0 : pick(s)), 0);
  return {
    splits,
    rows: sum((s) => s.written),
    read: sum((s) => s.read),
    rejected: sum((s) => s.rejected),
    filtered: sum((s) => s.filtered),
    attempts: splits.length + failed,
    failed,
    ms: Date.now() - started,
  };
}
