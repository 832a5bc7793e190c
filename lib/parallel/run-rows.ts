/**
 * A batch's rows through the row function, in order, one at a time (an async function is
 * awaited), each row's throw caught as a failure of that row: what a worker does with a
 * batch (worker.ts), and the main thread with a batch it runs itself (parallel.map's
 * `mainThread`). With a sync function the whole batch runs before the call returns.
 */
import type { RowFailure } from './protocol.js';
import { snapshot, TailCollector } from './tails.js';
import { failure, isThenable, type RowFunction } from './worker-function.js';

export interface RowsRun {
  /** One output per row up to the last row run; a failed row's place holds `null`. */
  readonly outputs: unknown[];
  readonly failures: RowFailure[];
  /** What each result appended to its row (tails.ts), when asked for and every result only appended. */
  readonly tails: TailCollector | null;
  /** Milliseconds spent in the function. */
  readonly fnMs: number;
}

export interface RowsTask {
  readonly firstIndex: number;
  /** Stop at the first row that throws (onError 'fail': the rest would not be used); `controller` is then aborted. */
  readonly stopAtFailure: boolean;
  /** Whether to collect the results' tails (a worker: its results cross back). */
  readonly tails: boolean;
  /** Its signal is the function's `signal`. */
  readonly controller: AbortController;
}

export async function runRows(fn: RowFunction, rows: readonly unknown[], { firstIndex, stopAtFailure, tails: collect, controller }: RowsTask): Promise<RowsRun> {
  const outputs: unknown[] = [];
  const failures: RowFailure[] = [];
  // What each result appends to its row, while every result so far only appends.
  let tails: TailCollector | null = collect ? new TailCollector() : null;
  const started = performance.now();
  for (let i = 0; i < rows.length; i++) {
    const before = tails === null ? null : snapshot(rows[i]);
    try {
      let out = fn(rows[i], { index: firstIndex + i, signal: controller.signal });
      if (isThenable(out)) out = await out;
      // `null` would end an object-mode stream and `undefined` is no row, as for map().
      if (out === null || out === undefined) throw new TypeError(`returned ${out}`);
      outputs.push(out);
      if (tails !== null && !tails.add(before, out)) tails = null;
    } catch (error) {
      failures.push(failure(i, error));
      outputs.push(null);
      tails?.addFailed();
      if (stopAtFailure) {
        controller.abort(error);
        break;
      }
    }
  }
  return { outputs, failures, tails, fnMs: performance.now() - started };
}
