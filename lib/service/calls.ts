import type { ServiceMetrics } from './options.js';
import { ItemFailure } from './item-failed.js';
import { ServiceError } from './errors.js';
import type { Permit } from './rate-limiter.js';
import { decide, decideItems, isThrottle } from './retry.js';
import { invoke } from './attempt.js';
import type { Failure, Job } from './job.js';
import type { ServiceSettings } from './settings.js';

/** Rows to send again after `delayMs`, each group with the error it failed with. */
interface Retry {
  readonly again: readonly { readonly at: readonly number[]; readonly error: unknown }[];
  readonly delayMs: number;
}

/** What the calls for some rows came to: positions are in those rows. */
interface Called<R> {
  readonly results: Map<number, R>;
  /** `permanent`: the error is not worth retrying; `key`: the key these rows were last sent with. */
  readonly failures: (Failure & { readonly permanent: boolean; readonly key: string })[];
}

/**
 * The calls for a batch of a `callService()` stage, until each of its rows has a result or
 * has failed for good: retries of failed calls, of the items the service marked failed,
 * and the splitting of a batch to isolate the rows the service refuses (`isolate`).
 * Counts what it does in the stage's `metrics`.
 */
export class ServiceCalls<In, R> {
  constructor(
    private readonly settings: ServiceSettings<In, R, unknown>,
    /** The stage's signal: aborted on destroy, it ends attempts, backoffs and rate waits. */
    private readonly signal: AbortSignal,
    private readonly metrics: ServiceMetrics,
  ) {}

  /** Fills `job.results` and `job.failures`; rejects only when the signal aborts. */
  callBatch(job: Job<In, R>): Promise<void> {
    return this.solve(job.rows.map((_, i) => i), job.key, job, { left: this.settings.maxExtraCalls });
  }

  /**
   * Calls for the rows of `job` at positions `at`; rows that failed together with a
   * permanent error are split in halves to isolate the poison rows. Fills `job.results`
   * and `job.failures`.
   */
  private async solve(at: readonly number[], key: string, job: Job<In, R>, split: { left: number }): Promise<void> {
    const rows = at.length === job.rows.length ? job.rows : at.map((i) => job.rows[i]);
    const called = await this.callWithRetries(rows, key, job.seq);
    for (const [i, result] of called.results) job.results[at[i]] = result;
    for (const failure of called.failures) {
      const positions = failure.at.map((i) => at[i]);
      const splittable = failure.permanent && !(failure.error instanceof ServiceError && failure.error.kind === 'response');
      if (!splittable || positions.length === 1 || split.left < 2) {
        let why = failure.why;
        if (splittable && positions.length > 1 && this.settings.maxExtraCalls > 0) why += `; not split further: maxExtraCalls (${this.settings.maxExtraCalls}) reached`;
        job.failures.push({ at: positions, error: failure.error, attempts: failure.attempts, why });
        continue;
      }
      split.left -= 2;
      this.metrics.isolationCalls += 2;
      const middle = Math.ceil(positions.length / 2);
      await this.solve(positions.slice(0, middle), `${failure.key}.1`, job, split);
      await this.solve(positions.slice(middle), `${failure.key}.2`, job, split);
    }
  }

  /**
   * Calls for `rows` until each has a result or has failed for good. A call that fails is
   * retried whole; a call that succeeds with some items marked `itemFailed` is followed by
   * one with only those of them worth retrying (under a key of their own: a de-duplicating
   * service would otherwise replay the first answer). Rows that got a result are never
   * sent again. Attempts, backoff, the budget, the rate limit and the deadline apply to
   * every call alike.
   */
  private async callWithRetries(rows: In[], key: string, batch: number): Promise<Called<R>> {
    const { retry, limiter } = this.settings;
    const signal = this.signal;
    const deadline = Date.now() + retry.deadlineMs;
    const called: Called<R> = { results: new Map(), failures: [] };
    /** Positions (in `rows`) still without a result, and the key they are sent with. */
    let pending = rows.map((_, i) => i);
    let sendKey = key;
    for (let attempt = 1; ; attempt++) {
      const sending = pending.length === rows.length ? rows : pending.map((i) => rows[i]);
      const permit = limiter ? await limiter.acquire(signal) : null;
      if (signal.aborted) throw signal.reason;
      const m = this.metrics;
      m.calls++;
      if (attempt > 1) m.retries++;
      m.rowsSent += sending.length;
      m.rowsPerCall = m.rowsSent / m.calls;
      m.inFlight++;
      m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
      let answer: readonly (R | ItemFailure)[] = [];
      let answered = false;
      let error: unknown;
      let timedOut = false;
      try {
        answer = await invoke(this.settings.fn, sending, { attempt, key: sendKey, batch }, permit, { timeoutMs: this.settings.timeoutMs, deadline, signal });
        answered = true;
      } catch (caught) {
        if (signal.aborted) throw signal.reason;
        error = caught;
        timedOut = caught instanceof ServiceError && caught.kind === 'timeout';
      } finally {
        m.inFlight--;
      }
      const next = answered ? this.afterAnswer(answer, pending, attempt, sendKey, permit, called) : this.afterError(error, timedOut, pending, attempt, sendKey, permit, called);
      if (!next) return called;
      if (Date.now() + next.delayMs >= deadline) {
        const why = `its deadline of ${retry.deadlineMs} ms (retries.deadlineMs) would pass`;
        for (const group of next.again) called.failures.push({ ...group, attempts: attempt, permanent: false, why, key: sendKey });
        return called;
      }
      pending = next.again.flatMap((group) => group.at);
      // The service answered for this key: a de-duplicating one would replay that answer.
      if (answered) sendKey = `${key}.r${attempt + 1}`;
      await sleep(next.delayMs, signal);
    }
  }

  /**
   * A call answered: rows with a result are done; of the items marked failed, those worth
   * another attempt are returned (each with its own error), the others fail for good.
   */
  private afterAnswer(answer: readonly (R | ItemFailure)[], pending: readonly number[], attempt: number, key: string, permit: Permit | null, called: Called<R>): Retry | null {
    const { retry, limiter } = this.settings;
    const failed: { at: number[]; error: unknown }[] = [];
    for (let i = 0; i < answer.length; i++) {
      const result = answer[i];
      if (ItemFailure.is(result)) failed.push({ at: [pending[i]], error: result.error });
      else called.results.set(pending[i], result);
    }
    if (failed.length === 0) {
      // Only a wholly successful answer refills the retry budget.
      retry.budget.refund();
      limiter?.succeeded();
      return null;
    }
    this.metrics.itemFailures += failed.length;
    // Items refused for throughput (429) slow the shared rate as a throttled call does.
    if (failed.some((f) => isThrottle(f.error))) {
      this.metrics.throttled++;
      if (permit) limiter?.throttled(permit.grantedAt);
    } else {
      limiter?.succeeded();
    }
    const decision = decideItems(failed.map((f) => f.error), attempt, retry, Date.now());
    const again: Retry['again'][number][] = [];
    decision.items.forEach((d, i) => {
      if (d.retry) again.push(failed[i]);
      else called.failures.push({ ...failed[i], attempts: attempt, permanent: d.permanent, why: d.why, key });
    });
    return again.length === 0 ? null : { again, delayMs: decision.delayMs };
  }

  /** A call failed as a whole: all its rows are tried again, or fail together for good. */
  private afterError(error: unknown, timedOut: boolean, pending: readonly number[], attempt: number, key: string, permit: Permit | null, called: Called<R>): Retry | null {
    const m = this.metrics;
    if (timedOut) m.timeouts++;
    if (isThrottle(error)) {
      m.throttled++;
      if (permit) this.settings.limiter?.throttled(permit.grantedAt);
    }
    const decision = decide(error, attempt, this.settings.retry, Date.now(), timedOut);
    if (!decision.retry) {
      called.failures.push({ at: pending, error, attempts: attempt, permanent: decision.permanent, why: decision.why, key });
      return null;
    }
    return { again: [{ at: pending, error }], delayMs: decision.delayMs };
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts (the timer is cleared). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
