/**
 * Queue mode: `job.plan()` (the planner) enqueues one job per split with a deterministic
 * id, holding back while more than `maxWaiting` jobs wait; `job.work()` (each worker
 * process) takes one split at a time per slot, runs its pipeline, and acknowledges the job
 * only after the sink committed (see worker.ts).
 */
import { checkFunction, checkInteger, checkOptions, checkSignal, fail, named, optionNames } from '../core/validate.js';
import { AbortError } from '../core/errors.js';
import type { QueueEngine } from './engine.js';
import { createMarkers, markerTotals, resolveExactlyOnce, type ExactlyOnceOptions, type JobProgress } from './exactly-once.js';
import type { SplitRun } from './run-split.js';
import type { DistributedSummary, Split, SplitPipeline, SplitReject, SplitSource } from './split.js';
import { sleep } from './sleep.js';
import { resolveWorkOptions, work, type WorkOptions } from './worker.js';

export interface JobOptions<S extends Split> {
  /** `distributed.pgBoss(pool)` or `distributed.bullmq(connection)`. */
  engine: QueueEngine;
  /** The queue's name, also the job's name on its done-markers. Letters, digits, `-`, `_`. */
  name: string;
  /** The split source (`csv.split(…)`, `postgres.split(…)`); workers build the same one. */
  source: SplitSource<S>;
  /** One split's pipeline: `(rows, context) => [rows, …stages, sink]`. */
  pipeline: SplitPipeline<S>;
  /** Commit each split's rows with a done-marker in one transaction (effectively-once). */
  exactlyOnce?: ExactlyOnceOptions;
  /** Where rejected rows go, each with its split. Without it, a rejected row fails the split. */
  rejects?: (reject: SplitReject) => unknown;
}

export interface PlanOptions {
  /** Splits to plan. */
  splits: number;
  /** Hold back while more than this many jobs wait (backpressure on the queue). @default Infinity */
  maxWaiting?: number;
  /** How often to look again while held back, in ms. @default 200 */
  pollMs?: number;
  signal?: AbortSignal;
}

const JOB_OPTIONS = optionNames<JobOptions<Split>>('distributed.job()', { engine: true, name: true, source: true, pipeline: true, exactlyOnce: true, rejects: true });
const PLAN_OPTIONS = optionNames<PlanOptions>('job.plan()', { splits: true, maxWaiting: true, pollMs: true, signal: true });

export interface PlanSummary {
  /** Splits in the plan. */
  readonly splits: number;
  /** Jobs this planner added (a restarted planner adds only the ones missing). */
  readonly added: number;
  /** Times the planner held back because more than `maxWaiting` jobs waited. */
  readonly heldBack: number;
}

export interface DistributedJob<S extends Split> {
  /** The planner: plan the splits and enqueue one job each (idempotent). */
  plan(options: PlanOptions): Promise<PlanSummary>;
  /** A worker: run splits from the queue (see `WorkOptions.until`). */
  work(options?: WorkOptions): Promise<DistributedSummary>;
  /** With `exactlyOnce`: what the done-markers say (splits committed, rows, rejects, deliveries), over every worker. */
  progress(): Promise<JobProgress>;
  readonly name: string;
  readonly source: SplitSource<S>;
}

/**
 * A pipeline run split by split by workers fed from a queue. The same `job(…)` is built in
 * the planner and in every worker (each with its own pool and credentials); only split
 * descriptors travel through the queue.
 *
 * @example
 * const job = distributed.job({
 *   engine: distributed.pgBoss(pool), name: 'violations', source: csv.split('violations.csv'),
 *   exactlyOnce: { pool },
 *   pipeline: (rows, { client }) => [rows, postgres.write(client!, { table: 'violations' })],
 * });
 * await job.plan({ splits: 200, maxWaiting: 50 });   // the planner
 * await job.work({ until: 'drained' });               // each worker process
 */
export function job<S extends Split>(options: JobOptions<S>): DistributedJob<S> {
  const { o, exactlyOnce } = named('distributed.job()', () => {
    const o = checkOptions('options', options, JOB_OPTIONS) as unknown as JobOptions<S>;
    if (!o.engine || typeof o.engine.take !== 'function') fail('engine', 'a queue engine (distributed.pgBoss, distributed.bullmq)', o.engine);
    if (typeof o.name !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(o.name)) fail('name', 'a queue name of letters, digits, - and _', o.name);
    if (!o.source || typeof o.source.plan !== 'function' || typeof o.source.open !== 'function') fail('source', 'a split source (csv.split, postgres.split)', o.source);
    checkFunction('pipeline', o.pipeline);
    if (o.rejects !== undefined) checkFunction('rejects', o.rejects);
    return { o, exactlyOnce: resolveExactlyOnce(o.exactlyOnce) };
  });
  const { engine, source, name } = o;

  return {
    name,
    source,
    async plan(planOptions) {
      const { n, maxWaiting, pollMs, signal } = named('job.plan()', () => {
        const p = checkOptions('options', planOptions, PLAN_OPTIONS) as unknown as PlanOptions;
        return {
          n: checkInteger('splits', p.splits, 1),
          maxWaiting: checkInteger('maxWaiting', p.maxWaiting ?? Infinity, 0, true),
          pollMs: checkInteger('pollMs', p.pollMs ?? 200, 1),
          signal: checkSignal('signal', p.signal),
        };
      });
      await engine.open(name);
      if (exactlyOnce) await createMarkers(exactlyOnce);
      const splits = await source.plan(n);
      let added = 0;
      let heldBack = 0;
      for (const split of splits) {
        if (signal?.aborted) throw new AbortError(signal.reason);
        if (maxWaiting !== Infinity) {
          let held = false;
          while ((await engine.waiting(name)) > maxWaiting) {
            held = true;
            await sleep(pollMs, signal);
          }
          if (held) heldBack++;
        }
        if (await engine.add(name, split.id, split as object)) added++;
      }
      await engine.setPlanned(name, splits.length);
      return { splits: splits.length, added, heldBack };
    },
    async work(workOptions = {}) {
      const checked = resolveWorkOptions(workOptions);
      await engine.open(name);
      if (exactlyOnce) await createMarkers(exactlyOnce);
      const r: Omit<SplitRun<S>, 'signal'> = { job: name, source, pipeline: o.pipeline, exactlyOnce, rejects: o.rejects };
      return work(engine, name, r, checked);
    },
    async progress() {
      if (!exactlyOnce) throw new TypeError('distributed job.progress() needs `exactlyOnce` (the done-markers are what it reads)');
      await createMarkers(exactlyOnce);
      return markerTotals(exactlyOnce, name);
    },
  };
}
