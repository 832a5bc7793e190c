/**
 * What `parallel.map`'s batches and `parallel.csv`'s ranges share as tasks of a worker:
 * each run is an attempt with its own `timeout` (batch-timer.ts), a failed attempt has a
 * reason, and a row whose function threw in a worker becomes a RowError on the main thread.
 */
import { RowError, reasonOf } from '../core/errors.js';
import type { Origin } from '../core/origin.js';
import { applyOnError, type OnError } from '../core/row-operation.js';
import type { Stage } from '../core/stage.js';
import { BatchTimer } from './batch-timer.js';
import type { RowFailure } from './protocol.js';

export interface Attempt {
  attempts: number;
  /** The running attempt's timeout, and whether it expired (its worker was terminated). */
  timer?: BatchTimer;
  timedOut?: boolean;
}

/** Counts a new attempt and arms its timeout: past it, the returned signal aborts the task, and piscina terminates its worker. */
export function beginAttempt(attempt: Attempt, timeout: number): AbortSignal | undefined {
  attempt.attempts++;
  attempt.timedOut = false;
  if (timeout === Infinity) return undefined;
  const abort = new AbortController();
  attempt.timer = new BatchTimer(timeout, () => {
    attempt.timedOut = true;
    abort.abort();
  });
  return abort.signal;
}

/** Why an attempt's task failed: its timeout, or the worker's error. */
export function attemptFailure(attempt: Attempt, timeout: number, error: unknown): string {
  return attempt.timedOut ? `no answer within its timeout of ${timeout} ms (the worker was terminated)` : reasonOf(error);
}

/** The RowError of a row whose function threw in a worker, the worker's error rebuilt with its own stack as cause (errors do not cross threads as themselves). */
export function workerRowError(stage: string, index: number, origin: Origin | undefined, failure: RowFailure): RowError {
  const cause = Object.assign(new Error(failure.message), { name: failure.name, stack: failure.stack ?? `${failure.name}: ${failure.message}` });
  return new RowError(stage, index, origin, failure.message, cause);
}

/**
 * Runs one attempt of a task: arms its timeout (the worker stamps `started` when it begins),
 * stops it once the task settles, then calls `done` — or, when the worker died or the
 * timeout expired, `retry` while `retries` allow (piscina has replaced the dead worker with
 * a fresh one), else `fail` with the reason.
 */
export function runAttempt<R>(
  attempt: Attempt,
  { timeout, retries }: { timeout: number; retries: number },
  task: (started: BigInt64Array | undefined, signal: AbortSignal | undefined) => Promise<R>,
  handlers: { done(result: R): void; retry(): void; fail(reason: string, error: unknown): void },
): void {
  const signal = beginAttempt(attempt, timeout);
  task(attempt.timer?.started, signal).then(
    (result) => {
      attempt.timer?.stop();
      handlers.done(result);
    },
    (error: unknown) => {
      attempt.timer?.stop();
      if (attempt.attempts <= retries) handlers.retry();
      else handlers.fail(attemptFailure(attempt, timeout, error), error);
    },
  );
}

/**
 * Applies `onError` to a row whose function threw, for a stage that delivers finished work in
 * order: true when the row is settled at once (failed rows replaced or rejected, the stage
 * still alive); false when the stage failed, or waits for a reject to be stored — then
 * `resume` runs once it is.
 */
export function settleFailedRow<In, Out>(
  stage: Stage<In, Out>,
  onError: OnError<In, Out>,
  failure: { readonly row: In; readonly index: number; readonly reason: string; readonly error: RowError },
  push: (replacement: Out) => void,
  resume: () => void,
): boolean {
  let pending = true;
  let waited = false;
  applyOnError(stage, onError, failure, push, (err) => {
    pending = false;
    if (err) stage.destroy(err);
    else if (waited) resume();
  });
  waited = pending;
  return !pending && !stage.destroyed;
}
