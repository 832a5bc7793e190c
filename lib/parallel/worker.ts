/**
 * The code each worker thread runs (piscina's task handler): it loads the user's module
 * once (worker-function.ts), then runs a batch's rows through its export (run-rows.ts) and
 * packs the results, or only what they appended to their rows (tails.ts), to cross back.
 */
import { pack, unpack } from './packing.js';
import type { BatchResult, BatchTask, RangeResult, RangeTask } from './protocol.js';
import { runRows } from './run-rows.js';
import { rowFunction } from './worker-function.js';

/**
 * piscina runs a byte range of a CSV file (parallel.csv) by this name. range-task.ts (and
 * with it the CSV reader) is loaded with the first range: parallel.map's workers never pay for it.
 */
export async function runRange(task: RangeTask): Promise<RangeResult> {
  // Loading the user's function first registers tsx's ES module hooks (when sluice runs from source), which the import needs.
  await rowFunction();
  return (await import('./range-task.js')).runRange(task);
}

/** When this worker's last task ended (see BatchResult.previousEndedAt). */
let lastEndedAt = 0;

const now = (): number => performance.timeOrigin + performance.now();

export default async function runBatch(task: BatchTask): Promise<BatchResult> {
  const startedAt = now();
  const previousEndedAt = lastEndedAt;
  const fn = await rowFunction();
  // The batch's timeout counts from here: loading the module (a worker's first batch) is not the batch's run.
  if (task.started) Atomics.store(task.started, 0, BigInt(Math.round(now() * 1000)));
  if (typeof fn === 'string') return { outputs: pack([]).packed, failures: [], fnMs: 0, startedAt, endedAt: now(), previousEndedAt, loadError: fn };
  const { firstIndex, stopAtFailure } = task;
  const { outputs, tails, failures, fnMs } = await runRows(fn, unpack(task.rows), { firstIndex, stopAtFailure, tails: true, controller: new AbortController() });
  // Copied back, not moved: piscina moves only what `Piscina.move` wrapped, one value per
  // result; only batches holding Buffers (the v8 path) would gain.
  const packed = pack(tails === null ? outputs : tails.values).packed;
  lastEndedAt = now();
  const appended = tails === null ? {} : { appended: { shape: tails.shape, rows: outputs.length } };
  return { outputs: packed, ...appended, failures, fnMs, startedAt, endedAt: lastEndedAt, previousEndedAt };
}
