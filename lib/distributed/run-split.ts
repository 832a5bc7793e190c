/** One split, run: its source opened, the pipeline built and run, in a split transaction when asked. */
import type pg from 'pg';
import { run, type RunOptions, type Summary } from '../pipeline/index.js';
import type { Reject } from '../core/reject.js';
import { inSplitTransaction, type ExactlyOnce } from './exactly-once.js';
import type { Split, SplitPipeline, SplitReject, SplitSource, SplitSummary } from './split.js';

export interface SplitRun<S extends Split> {
  job: string;
  source: SplitSource<S>;
  pipeline: SplitPipeline<S>;
  exactlyOnce: ExactlyOnce | null;
  rejects: ((reject: SplitReject) => unknown) | undefined;
  signal: AbortSignal;
}

const isOptions = (value: unknown): value is RunOptions =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { pipe?: unknown }).pipe !== 'function' &&
  typeof (value as { write?: unknown }).write !== 'function' && !(Symbol.asyncIterator in value) && !(Symbol.iterator in value);

async function runPipeline<S extends Split>(r: SplitRun<S>, split: S, attempt: number, client: pg.ClientBase | null): Promise<Summary> {
  const args = [...r.pipeline(r.source.open(split), { split, attempt, client, signal: r.signal })];
  const own = isOptions(args[args.length - 1]) ? (args.pop() as RunOptions) : {};
  const rejects = r.rejects;
  const options: RunOptions = {
    ...own,
    signal: own.signal ? AbortSignal.any([own.signal, r.signal]) : r.signal,
    ...(rejects ? { rejects: async (reject: Reject) => void (await rejects({ ...reject, split: split.id })) } : {}),
  };
  return (run as (...a: unknown[]) => Promise<Summary>)(...args, options);
}

/**
 * Runs one split; with `exactlyOnce`, inside the split's transaction, `beforeCommit` (the
 * queue's acknowledgement, where it can share the transaction) just before the commit.
 */
export async function runSplit<S extends Split>(
  r: SplitRun<S>,
  split: S,
  attempt: number,
  beforeCommit: (client: pg.ClientBase | null, summary: Summary | null) => Promise<void> = async () => {},
): Promise<SplitSummary> {
  const started = Date.now();
  if (!r.exactlyOnce) {
    const summary = await runPipeline(r, split, attempt, null);
    await beforeCommit(null, summary);
    return { ...summary, split: split.id, attempt, skipped: false };
  }
  const summary = await inSplitTransaction(r.exactlyOnce, r.job, split.id, attempt, (client) => runPipeline(r, split, attempt, client), beforeCommit);
  if (summary === null) {
    return { read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false, ms: Date.now() - started, split: split.id, attempt, skipped: true };
  }
  return { ...summary, split: split.id, attempt, skipped: false };
}
