/**
 * The worker threads of one stage: a piscina pool of exactly `threads` workers, each
 * started with the user's module (see worker.ts), one batch per worker at a time. A worker
 * that dies, or whose batch is aborted while it runs it (piscina then terminates it), is
 * replaced by piscina; `close()` terminates every worker and resolves once all have exited
 * — those piscina terminated on its own too, whose exit it does not wait for — so none
 * outlives the stage.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { callerFile } from '../core/caller-file.js';
import type { BatchResult, BatchTask, RangeResult, RangeTask, WorkerSetup } from './protocol.js';

/**
 * worker.ts (or, in the build, worker.js) beside this file. Found from this module's own
 * call site because the CommonJS build has no `import.meta.url`; under tsx the workers
 * inherit its loader (execArgv) and load the .ts file as the test runner does.
 */
const workerFile = callerFile().replace(/pool\.([cm]?[jt]s)$/, 'worker.$1');

/** tsx's hooks (see WorkerSetup.tsxHooks), when this runs from source. */
// `require.resolve` finds the CommonJS entry; its ES module twin beside it is the one to import.
const tsxHooks = workerFile.endsWith('.ts')
  ? pathToFileURL(createRequire(workerFile).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href
  : undefined;

export interface PoolSettings {
  readonly threads: number;
  readonly setup: WorkerSetup;
  readonly resourceLimits?: ResourceLimits;
}

export class WorkerPool {
  // piscina is loaded with the first pool, not with sluice: a pipeline that never runs
  // parallel.map does not pay its start-up (~20 ms, ~8 MB here).
  private readonly piscina: Promise<Piscina<BatchTask | RangeTask, BatchResult | RangeResult>>;
  private closing: Promise<void> | null = null;
  /** Every thread the pool started, until it has exited. */
  private readonly live = new Map<Worker, Promise<void>>();

  /** The pool of a stage's settings: `threads` workers that load its module's export. */
  static of({ threads, module, exportName, resourceLimits }: { threads: number; module: string; exportName: string; resourceLimits?: ResourceLimits }): WorkerPool {
    return new WorkerPool({ threads, setup: { module, exportName }, ...(resourceLimits ? { resourceLimits } : {}) });
  }

  constructor({ threads, setup, resourceLimits }: PoolSettings) {
    this.piscina = import('piscina').then(({ Piscina }) => {
      const pool = new Piscina<BatchTask | RangeTask, BatchResult | RangeResult>({
        filename: workerFile,
        minThreads: threads,
        maxThreads: threads,
        concurrentTasksPerWorker: 1,
        // Never retire an idle worker: the stage ends them all in close().
        idleTimeout: Infinity,
        workerData: tsxHooks === undefined ? setup : { ...setup, tsxHooks },
        ...(resourceLimits ? { resourceLimits } : {}),
      });
      // A worker's 'error' is also the failure of its task (handled there); piscina would
      // otherwise re-emit it on the pool as an uncaught 'error'.
      pool.on('error', () => {});
      pool.on('workerCreate', () => this.track(pool.threads));
      return pool;
    });
  }

  /** Runs a batch; aborting `signal` while a worker runs it terminates that worker. */
  run(task: BatchTask, transferList: ArrayBuffer[], signal?: AbortSignal): Promise<BatchResult> {
    return this.piscina.then((pool) => pool.run(task, { transferList, ...(signal ? { signal } : {}) }) as Promise<BatchResult>);
  }

  /** Runs a byte range of a CSV file (parallel.csv, range-task.ts); `signal` as for `run`. */
  runRange(task: RangeTask, signal?: AbortSignal): Promise<RangeResult> {
    return this.piscina.then((pool) => pool.run(task, { name: 'runRange', ...(signal ? { signal } : {}) }) as Promise<RangeResult>);
  }

  /** Terminates every worker (tasks still running fail, and are ignored by then). */
  close(): Promise<void> {
    this.closing ??= this.piscina.then(
      async (pool) => {
        // A worker piscina terminated on its own (its batch was aborted) may still be exiting,
        // and on its exit piscina starts a replacement — unless it is destroying by then, and
        // destroy() does not wait for it. So those exits come first: destroy() then ends any
        // replacement too, and none is started after the pool is gone.
        const inPool = new Set(pool.threads);
        await Promise.all([...this.live].filter(([thread]) => !inPool.has(thread)).map(([, exited]) => exited));
        await pool.destroy();
        await Promise.all(this.live.values());
      },
      () => undefined,
    );
    return this.closing;
  }

  private track(threads: readonly Worker[]): void {
    for (const thread of threads) {
      // A thread that has exited already has threadId -1 (its 'exit' has been emitted).
      if (this.live.has(thread) || thread.threadId === -1) continue;
      this.live.set(thread, new Promise<void>((resolve) => thread.once('exit', () => {
        this.live.delete(thread);
        resolve();
      })));
    }
  }
}
