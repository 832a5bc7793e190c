/**
 * Static mode, no broker: every process plans the same splits (a plan is deterministic) and
 * runs those whose index falls to its partition (`split.index % count === index`).
 */
import { checkFunction, checkInteger, checkOptions, checkSignal, fail, named, optionNames } from '../core/validate.js';
import { createMarkers, resolveExactlyOnce, type ExactlyOnceOptions } from './exactly-once.js';
import { partitionIndex, type PartitionIndex, type PartitionIndexOptions } from './partition-index.js';
import { runSplit, type SplitRun } from './run-split.js';
import type { DistributedSummary, Split, SplitPipeline, SplitReject, SplitSource, SplitSummary } from './split.js';
import { totals } from './summary.js';

export interface PartitionOptions<S extends Split> extends PartitionIndexOptions {
  /** The split source (`csv.split(…)`, `postgres.split(…)`). */
  source: SplitSource<S>;
  /** One split's pipeline: `(rows, context) => [rows, …stages, sink]`. */
  pipeline: SplitPipeline<S>;
  /** Splits to plan in all (each partition runs about `splits / count`). @default count */
  splits?: number;
  /** The job's name, which its done-markers carry. @default 'sluice' */
  name?: string;
  /** Commit each split's rows with a done-marker (a re-run partition skips splits done before). */
  exactlyOnce?: ExactlyOnceOptions;
  /** Where rejected rows go, each with its split. Without it, a rejected row fails the run. */
  rejects?: (reject: SplitReject) => unknown;
  signal?: AbortSignal;
}

const PARTITION_OPTIONS = optionNames<PartitionOptions<Split>>('distributed.partition()', {
  index: true, count: true, env: true, source: true, pipeline: true, splits: true, name: true, exactlyOnce: true, rejects: true, signal: true,
});

/**
 * Runs this process's partition of the splits (static mode: no queue). The index and count
 * come from the options or the platform's environment (see `partitionIndex`). A failing
 * split fails the partition: the platform re-runs it (Kubernetes `backoffLimitPerIndex`),
 * and with `exactlyOnce` the splits it had committed are skipped.
 *
 * @example
 * // A Kubernetes Indexed Job with completions: 8 (JOB_COMPLETION_INDEX is set per pod)
 * const summary = await distributed.partition({
 *   count: 8, source: csv.split('/data/violations.csv'),
 *   pipeline: (rows) => [rows, postgres.write(pool, { table: 'violations', mode: 'upsert' })],
 * });
 */
export async function partition<S extends Split>(options: PartitionOptions<S>): Promise<DistributedSummary & PartitionIndex> {
  const { o, signal, exactlyOnce, where, n } = named('distributed.partition()', () => {
    const o = checkOptions('options', options, PARTITION_OPTIONS) as unknown as PartitionOptions<S>;
    if (!o.source || typeof o.source.plan !== 'function' || typeof o.source.open !== 'function') fail('source', 'a split source (csv.split, postgres.split)', o.source);
    checkFunction('pipeline', o.pipeline);
    if (o.rejects !== undefined) checkFunction('rejects', o.rejects);
    const signal = checkSignal('signal', o.signal) ?? new AbortController().signal;
    const exactlyOnce = resolveExactlyOnce(o.exactlyOnce);
    const where = partitionIndex({ index: o.index, count: o.count, env: o.env });
    return { o, signal, exactlyOnce, where, n: o.splits === undefined ? where.count : checkInteger('splits', o.splits, 1) };
  });
  const source = o.source as SplitSource<S>;
  const name = o.name ?? 'sluice';
  const started = Date.now();
  if (exactlyOnce) await createMarkers(exactlyOnce);
  const mine = (await source.plan(n)).filter((split) => split.index % where.count === where.index);
  const r: SplitRun<S> = { job: name, source, pipeline: o.pipeline, exactlyOnce, rejects: o.rejects, signal };
  const done: SplitSummary[] = [];
  for (const split of mine) done.push(await runSplit(r, split, 1));
  return { ...totals(done, 0, started), ...where };
}
