import type { CallContext, ServiceFunction } from './options.js';
import type { ItemFailure } from './item-failed.js';
import { ServiceError } from './errors.js';
import type { Permit } from './rate-limiter.js';

/** When an attempt must end at the latest. */
export interface AttemptLimits {
  readonly timeoutMs: number;
  /** The batch's deadline across its attempts (`Date.now()` time). */
  readonly deadline: number;
  /** The stage's signal, aborted when it is destroyed. */
  readonly signal: AbortSignal;
}

/**
 * One attempt: the user's function under a timeout, its results checked. Every listener
 * and the timer are removed when the attempt settles.
 */
export async function invoke<In, R>(fn: ServiceFunction<In, R>, rows: In[], context: Omit<CallContext, 'signal'>, permit: Permit | null, limits: AttemptLimits): Promise<readonly (R | ItemFailure)[]> {
  const { timeoutMs, deadline, signal: stage } = limits;
  const attempt = new AbortController();
  const onStageAbort = () => attempt.abort(stage.reason);
  stage.addEventListener('abort', onStageAbort, { once: true });
  // The attempt ends at its own timeout or at the batch's deadline, whichever comes first.
  const untilDeadline = deadline - Date.now();
  const limit = Math.min(timeoutMs, untilDeadline);
  const which = untilDeadline < timeoutMs ? 'retries.deadlineMs' : 'timeoutMs';
  const timer = limit === Infinity ? null : setTimeout(() => {
    attempt.abort(new ServiceError(`no answer within ${Math.max(0, Math.round(limit))} ms (${which})`, { kind: 'timeout', retryable: true }));
  }, Math.max(0, limit));
  // Settles when the attempt is aborted, even if the user's function ignores its signal.
  let onAttemptAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAttemptAbort = () => reject(attempt.signal.reason);
    attempt.signal.addEventListener('abort', onAttemptAbort, { once: true });
  });
  try {
    const call = Promise.resolve().then(() => {
      permit?.start();
      return fn(rows, { ...context, signal: attempt.signal });
    });
    call.catch(() => {}); // an abandoned call's late failure is nobody's business
    const results = await Promise.race([call, aborted]);
    if (!Array.isArray(results)) {
      throw new ServiceError(`the service function returned ${results === null ? 'null' : typeof results}, not an array of results`, { kind: 'response', retryable: false });
    }
    if (results.length !== rows.length) {
      throw new ServiceError(`the service returned ${results.length} result(s) for ${rows.length} row(s)`, { kind: 'response', retryable: false });
    }
    return results as readonly (R | ItemFailure)[];
  } finally {
    if (timer) clearTimeout(timer);
    stage.removeEventListener('abort', onStageAbort);
    attempt.signal.removeEventListener('abort', onAttemptAbort);
  }
}
