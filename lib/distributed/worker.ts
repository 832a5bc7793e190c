/**
 * The worker loop: each slot takes a job, runs its split, and acknowledges it only once
 * the split's rows are committed (with `exactlyOnce`, in the same transaction where the
 * engine allows it). A failed split is given back to the queue to be retried; the error
 * sent with it is the error's name and message only (never rows, never credentials).
 */
import { checkInteger, checkOneOf, checkOptions, checkSignal, named, optionNames } from '../core/validate.js';
import type pg from 'pg';
import type { QueueEngine } from './engine.js';
import { runSplit, type SplitRun } from './run-split.js';
import { sleep } from './sleep.js';
import type { DistributedSummary, Split, SplitSummary } from './split.js';
import { totals } from './summary.js';

export interface WorkOptions {
  /** Splits this process runs at once (slots). @default 1 */
  concurrency?: number;
  /**
   * `'drained'`: stop once the plan is whole and no job is left unfinished (none waiting,
   * active elsewhere, or waiting for a retry); `'aborted'`: keep waiting for jobs until
   * `signal` aborts (a long-lived worker).
   * @default 'drained'
   */
  until?: 'drained' | 'aborted';
  /** How often an idle slot looks for a job, in ms. @default 250 */
  pollMs?: number;
  /** Stops the worker: the running splits are rolled back and given back to the queue. */
  signal?: AbortSignal;
}

const WORK_OPTIONS = optionNames<WorkOptions>('job.work()', { concurrency: true, until: true, pollMs: true, signal: true });

const MAX_MESSAGE = 2_000;

/** `job.work()`'s options checked, with their defaults: before the engine is opened, so a bad one leaves nothing open. */
export function resolveWorkOptions(options: WorkOptions): Required<WorkOptions> {
  return named('job.work()', () => {
    const o = checkOptions('options', options, WORK_OPTIONS) as WorkOptions;
    return {
      concurrency: checkInteger('concurrency', o.concurrency ?? 1, 1),
      until: checkOneOf('until', o.until ?? 'drained', ['drained', 'aborted'] as const),
      pollMs: checkInteger('pollMs', o.pollMs ?? 250, 1),
      signal: checkSignal('signal', o.signal) ?? new AbortController().signal,
    };
  });
}

export async function work<S extends Split>(engine: QueueEngine, queue: string, r: Omit<SplitRun<S>, 'signal'>, options: Required<WorkOptions>): Promise<DistributedSummary> {
  const { concurrency, until, pollMs, signal } = options;
  const run: SplitRun<S> = { ...r, signal };
  const started = Date.now();
  const done: SplitSummary[] = [];
  let failed = 0;

  const drained = async () => until === 'drained' && (await engine.planned(queue)) !== null && (await engine.unfinished(queue)) === 0;

  const slot = async (): Promise<void> => {
    while (!signal.aborted) {
      const delivery = await engine.take(queue);
      if (!delivery) {
        if (await drained()) return;
        await sleep(pollMs, signal).catch(() => {});
        continue;
      }
      // One beat at a time: a beat that waits (on a busy pool, or on the job row while the
      // split's transaction acknowledges it) is not joined by more.
      let beating: Promise<void> | null = null;
      const beat = delivery.heartbeatMs > 0
        ? setInterval(() => void (beating ??= delivery.heartbeat().catch(() => {}).finally(() => (beating = null))), delivery.heartbeatMs)
        : null;
      const complete = (client: pg.ClientBase | null, summary: { read: number; written: number; rejected: number } | null) =>
        delivery.complete({ split: (delivery.data as S).id, read: summary?.read ?? 0, written: summary?.written ?? 0, rejected: summary?.rejected ?? 0 }, client);
      try {
        const summary = await runSplit(run, delivery.data as S, delivery.attempt, delivery.inTransaction ? complete : undefined);
        done.push(summary);
        // After the commit: should this acknowledgement be lost (a lock that expired under
        // load, a dropped connection), the split is redelivered — with exactlyOnce it finds
        // its done-marker and is acknowledged then without writing. Its rows are in: done.
        if (!delivery.inTransaction) await complete(null, summary).catch(() => {});
      } catch (error) {
        failed++;
        const e = error as Error;
        await delivery.fail(`${e?.name ?? 'Error'}: ${String(e?.message ?? e)}`.slice(0, MAX_MESSAGE)).catch(() => {});
      } finally {
        if (beat) clearInterval(beat);
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, slot));
  return totals(done, failed, started);
}
