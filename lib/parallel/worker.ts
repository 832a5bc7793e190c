/**
 * The code each worker thread runs (piscina's task handler): it loads the user's module
 * once (worker-function.ts), then runs a batch's rows through its export, in order, one at a time (an async
 * function is awaited), catching each row's throw as a failure of that row.
 */
import { pack, unpack } from './packing.js';
import type { BatchResult, BatchTask, RangeResult, RangeTask, RowFailure } from './protocol.js';
import { snapshot, TailCollector } from './tails.js';
import { failure, isThenable, rowFunction } from './worker-function.js';

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
  const rows = unpack(task.rows);
  const outputs: unknown[] = [];
  const failures: RowFailure[] = [];
  // What each result appends to its row (tails.ts), while every result so far only appends.
  let tails: TailCollector | null = new TailCollector();
  // Aborted when the rest of the batch is abandoned (a row failed and the stage will fail).
  const controller = new AbortController();
  const fnStarted = performance.now();
  for (let i = 0; i < rows.length; i++) {
    const before = tails === null ? null : snapshot(rows[i]);
    try {
      let out = fn(rows[i], { index: task.firstIndex + i, signal: controller.signal });
      if (isThenable(out)) out = await out;
      // `null` would end an object-mode stream and `undefined` is no row, as for map().
      if (out === null || out === undefined) throw new TypeError(`returned ${out}`);
      outputs.push(out);
      if (tails !== null && !tails.add(before, out)) tails = null;
    } catch (error) {
      failures.push(failure(i, error));
      outputs.push(null);
      tails?.addFailed();
      if (task.stopAtFailure) {
        controller.abort(error);
        break;
      }
    }
  }
  const fnMs = performance.now() - fnStarted;
  // Copied back, not moved: piscina moves only what `Piscina.move` wrapped, one value per
  // result; only batches holding Buffers (the v8 path) would gain.
  const packed = pack(tails === null ? outputs : tails.values).packed;
  lastEndedAt = now();
  const appended = tails === null ? {} : { appended: { shape: tails.shape, rows: outputs.length } };
  return { outputs: packed, ...appended, failures, fnMs, startedAt, endedAt: lastEndedAt, previousEndedAt };
}
