import { setMaxListeners } from 'node:events';
import type { TransformCallback } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { Batcher, type ClosedBatch, type FlushCounts } from '../internal/batcher.js';
import { BatchError, RowError, ServiceError, reasonOf, rowsText, type RowRange } from '../internal/errors.js';
import { originOf } from '../internal/origin.js';
import { RateLimiter, type Permit, type RateOptions } from '../internal/rate-limiter.js';
import { sendReject } from '../internal/reject.js';
import { decide, decideItems, isThrottle, resolveRetry, type ResolvedRetry, type RetryOptions } from '../internal/retry.js';
import { Stage, stageName } from '../internal/stage.js';
import { checkFunction, checkHighWaterMark, checkInteger, checkOneOf, checkOptions, fail } from '../internal/validate.js';
import { ItemFailure } from '../services/item-failed.js';

/** Passed to the service function with each call. */
export interface CallContext {
  /** Aborted when the call times out (`timeoutMs`) or the stage is destroyed. */
  readonly signal: AbortSignal;
  /** 1-based attempt of this call (2 and up are retries). */
  readonly attempt: number;
  /**
   * The idempotency key of the rows sent: the same for every attempt with the same rows,
   * another for each batch, for each half when a batch is split (`key.1`, `key.2`) and for
   * the failed items sent again after a partial failure (`key.r2` at attempt 2, …). Send it
   * to the service (e.g. an `Idempotency-Key` header) so a retried call is not applied twice.
   */
  readonly key: string;
  /** 1-based number of the batch within the stage. */
  readonly batch: number;
}

/**
 * The user's call: one result per row, in the rows' order (sync or async). A row the
 * service did not process gets `itemFailed(reason)` in its place: only those rows are
 * sent again.
 */
export type ServiceFunction<In, R> = (rows: In[], context: CallContext) => PromiseLike<readonly (R | ItemFailure)[]> | readonly (R | ItemFailure)[];

export interface CallServiceOptions<In, R, Out> {
  /**
   * Rows per call (the service charges per call: the bigger, the cheaper).
   * @default 100
   */
  batchSize?: number;
  /**
   * A batch is closed before it would pass this many bytes (`sizeOf` of its rows).
   * @default Infinity
   */
  maxBytes?: number;
  /**
   * The longest the first row of a partial batch waits for more rows before it is sent.
   * @default Infinity
   */
  maxWaitMs?: number;
  /**
   * The size of a row in bytes, for `maxBytes`.
   * @default its UTF-8 length as JSON, plus one
   */
  sizeOf?: (row: In) => number;
  /**
   * Batches in flight at once (being called, retried, or done and waiting for an earlier
   * one to keep the order). At most this many plus the one being filled are held.
   * @default 1
   */
  concurrency?: number;
  /**
   * At most `calls` calls start in any `per` ms, retries included: `{ calls, per,
   * adaptive? }`, or a `RateLimiter` shared with other stages and pipelines.
   * @default no limit
   */
  rate?: RateOptions | RateLimiter;
  /**
   * Retries of a failing call: `{ attempts, baseMs, maxDelayMs, maxRetryAfterMs, retryOn,
   * budget }`, or `false` for a single attempt.
   * @default { attempts: 3 } — exponential backoff with full jitter, Retry-After honoured
   */
  retries?: RetryOptions | false;
  /**
   * Milliseconds one call may take; then its `signal` aborts and the attempt fails with a
   * retryable `ServiceError` (`kind: 'timeout'`).
   * @default 30_000
   */
  timeoutMs?: number;
  /**
   * `true`: rows leave in input order. `false`: each batch's rows leave as soon as its call
   * completes (order within a batch is kept).
   * @default true
   */
  ordered?: boolean;
  /**
   * Rows that still fail after their retries (a whole batch, or the items the service
   * marked with `itemFailed`): `'fail'` fails the pipeline with a `BatchError` naming the
   * failed rows (the batch's rows before the first of them are passed on first);
   * `'reject'` sends each failed row to the reject channel with its own reason, and the
   * rest go on.
   * @default 'fail'
   */
  onError?: 'fail' | 'reject';
  /**
   * Poison rows: a batch that fails with a permanent (not retryable) error is split in
   * halves, and the halves again, to find the rows the service refuses; only those fail.
   * `maxExtraCalls` bounds the extra calls per batch.
   * @default false; `true` means { maxExtraCalls: 4 × ⌈log2(batchSize)⌉ } (two bad rows)
   */
  isolate?: boolean | { maxExtraCalls?: number };
  /**
   * Builds the output row from an input row and its result.
   * @default the result replaces the row
   */
  merge?: (row: In, result: R, index: number) => Out;
  /**
   * The idempotency key of a batch, e.g. a hash of its rows' ids so that a re-run of the
   * pipeline sends the same keys.
   * @default a random UUID per batch
   */
  idempotencyKey?: (rows: readonly In[], batch: number) => string;
  /**
   * Object-mode high-water mark of both sides, in rows.
   * @default 16
   */
  highWaterMark?: number;
}

/** What a service stage did, readable while it runs (the same object, updated) and after. */
export interface ServiceMetrics {
  /** Batches formed from the input. */
  batches: number;
  /** Calls made: first attempts, retries and isolation calls. */
  calls: number;
  /** Calls that were retries of a failed call. */
  retries: number;
  /** Extra calls made to isolate poison rows. */
  isolationCalls: number;
  /** Items the service answered with `itemFailed` (each time: a retried item may count twice). */
  itemFailures: number;
  /** Rows carried by all calls, and per call on average. */
  rowsSent: number;
  rowsPerCall: number;
  /** Calls running now, and the most at once. */
  inFlight: number;
  maxInFlight: number;
  /** Throttled (429) and timed-out calls. */
  throttled: number;
  timeouts: number;
  /** Batches or parts of batches (each failed item is a part) that failed for good, and the rows rejected because of them. */
  failedBatches: number;
  rejectedRows: number;
  /** Why each batch was closed: size, bytes, time (maxWaitMs), end of input. */
  flushes: Readonly<FlushCounts>;
}

/** `callService()`'s stage. */
export interface ServiceStage<In, Out> extends Stage<In, Out> {
  readonly metrics: Readonly<ServiceMetrics>;
}

/** Rows of a batch that failed for good together (a call, a half, or one item). */
interface Failure {
  /** Their positions in the batch (0-based, ascending; not always adjacent). */
  readonly at: readonly number[];
  /** The last attempt's error. */
  readonly error: unknown;
  readonly attempts: number;
  readonly why: string;
}

interface Job<In, R> {
  readonly seq: number;
  readonly rows: In[];
  /** 1-based number within the stage of the batch's first row. */
  readonly firstIndex: number;
  readonly key: string;
  done: boolean;
  /** Results by position in the batch; the positions of `failures` have none. */
  readonly results: R[];
  readonly failures: Failure[];
}

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

interface Settings<In, R, Out> {
  fn: ServiceFunction<In, R>;
  batch: { size: number; maxBytes?: number; maxWaitMs?: number; sizeOf?: (row: In) => number };
  concurrency: number;
  limiter: RateLimiter | null;
  retry: ResolvedRetry;
  timeoutMs: number;
  ordered: boolean;
  onError: 'fail' | 'reject';
  maxExtraCalls: number;
  merge: ((row: In, result: R, index: number) => Out) | null;
  key: (rows: readonly In[], batch: number) => string;
  highWaterMark?: number;
}

const defaultKey = (): string => randomUUID();

/**
 * Invariants:
 * - `queue` holds the batches started and not yet delivered, ≤ `concurrency`; `ready`
 *   holds closed batches not yet started. While `ready` is not empty the write callback
 *   is held, so the stage holds at most `concurrency` batches plus the one being filled
 *   (plus, at a `maxBytes` close, the row that did not fit).
 * - A batch starts only while the output is below its high-water mark: a slow consumer
 *   stops new calls, and then the input.
 * - Rows of a batch are pushed together when it is delivered, in input order, once each
 *   has a result or has failed for good; in `ordered` mode batches are delivered in input
 *   order. Deliveries are serial (a reject may wait for its sink).
 * - A row that got a result is never sent again: after a partial answer only the items
 *   marked `itemFailed` are, and every row leaves (or is rejected) exactly once.
 * - Every timer (batch wait, call timeout, backoff, rate wait) is cleared when it is no
 *   longer needed and on destroy; in-flight calls see their signal aborted.
 */
class ServiceStageImpl<In, R, Out> extends Stage<In, Out> implements ServiceStage<In, Out> {
  private readonly controller = new AbortController();
  private readonly batcher: Batcher<In>;
  private readonly ready: Job<In, R>[] = [];
  private readonly queue: Job<In, R>[] = [];
  private heldWrite: TransformCallback | null = null;
  private heldFlush: TransformCallback | null = null;
  private delivering = false;
  /** A batch failed for good and the pipeline will fail: start no more paid calls. */
  private doomed = false;
  private batched = 0;
  readonly metrics: ServiceMetrics;

  constructor(name: string, private readonly settings: Settings<In, R, Out>) {
    super(name, settings.highWaterMark);
    this.batcher = new Batcher(settings.batch, this.onTime);
    this.metrics = {
      batches: 0, calls: 0, retries: 0, isolationCalls: 0, itemFailures: 0, rowsSent: 0, rowsPerCall: 0, inFlight: 0, maxInFlight: 0,
      throttled: 0, timeouts: 0, failedBatches: 0, rejectedRows: 0, flushes: this.batcher.flushes,
    };
    // One listener per call in flight, per backoff and per rate wait.
    setMaxListeners(0, this.controller.signal);
  }

  override _transform(row: In, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    let closed: ClosedBatch<In>[];
    try {
      closed = this.batcher.add(row);
    } catch (error) {
      callback(new RowError(this.stage, index, originOf(row), reasonOf(error), error));
      return;
    }
    for (const batch of closed) this.close(batch);
    this.pump();
    if (this.ready.length > 0) this.heldWrite = callback;
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.batcher.close('end');
    if (last) this.close(last);
    this.heldFlush = callback;
    this.pump();
    this.settle();
  }

  override _read(size: number): void {
    super._read(size);
    // Not from inside _read: a write released here would be parked by Transform (see RowOperation).
    if (this.heldWrite || this.ready.length > 0) process.nextTick(this.wake);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.controller.abort(error ?? new Error(`${this.stage} was destroyed`));
    this.batcher.clear();
    this.ready.length = 0;
    this.queue.length = 0;
    this.heldWrite = null;
    this.heldFlush = null;
    callback(error);
  }

  private readonly wake = (): void => {
    if (this.destroyed) return;
    this.pump();
    this.settle();
  };

  private readonly onTime = (): void => {
    if (this.destroyed) return;
    const closed = this.batcher.close('time');
    if (closed) this.close(closed);
    this.pump();
  };

  private get outputFull(): boolean {
    return this.readableLength >= this.readableHighWaterMark;
  }

  private close(batch: ClosedBatch<In>): void {
    const seq = ++this.metrics.batches;
    const firstIndex = this.batched + 1;
    this.batched += batch.rows.length;
    this.ready.push({ seq, rows: batch.rows, firstIndex, key: this.settings.key(batch.rows, seq), done: false, results: [], failures: [] });
  }

  /** Starts ready batches while there is room in flight and in the output. */
  private pump(): void {
    while (!this.destroyed && !this.doomed && this.ready.length > 0 && this.queue.length < this.settings.concurrency && !this.outputFull) {
      const job = this.ready.shift()!;
      this.queue.push(job);
      this.solve(job.rows.map((_, i) => i), job.key, job, { left: this.settings.maxExtraCalls }).then(
        () => {
          if (this.destroyed) return;
          job.done = true;
          if (this.settings.onError === 'fail' && job.failures.length > 0) this.doomed = true;
          this.deliver();
        },
        (error: unknown) => {
          // Only an abort (the stage is being destroyed) or a bug in this file gets here.
          if (!this.destroyed) this.destroy(error as Error);
        },
      );
    }
  }

  /** Releases the held write once no closed batch waits, and the flush once all is done. */
  private settle(): void {
    if (this.destroyed) return;
    if (this.heldWrite && this.ready.length === 0) {
      const callback = this.heldWrite;
      this.heldWrite = null;
      callback();
    }
    if (this.heldFlush && !this.delivering && this.ready.length === 0 && this.queue.length === 0) {
      const callback = this.heldFlush;
      this.heldFlush = null;
      callback();
    }
  }

  // ---- calling --------------------------------------------------------------------------

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
    const signal = this.controller.signal;
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
        answer = await this.invoke(sending, { attempt, key: sendKey, batch }, permit, deadline);
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

  /** One attempt: the user's function under a timeout, its results checked. */
  private async invoke(rows: In[], context: Omit<CallContext, 'signal'>, permit: Permit | null, deadline: number): Promise<readonly (R | ItemFailure)[]> {
    const stage = this.controller.signal;
    const attempt = new AbortController();
    const onStageAbort = () => attempt.abort(stage.reason);
    stage.addEventListener('abort', onStageAbort, { once: true });
    const { timeoutMs } = this.settings;
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
        return this.settings.fn(rows, { ...context, signal: attempt.signal });
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

  // ---- delivering -----------------------------------------------------------------------

  private nextDone(): Job<In, R> | undefined {
    if (this.settings.ordered) return this.queue[0]?.done ? this.queue[0] : undefined;
    return this.queue.find((job) => job.done);
  }

  /** Delivers finished batches (in order when `ordered`), one at a time. */
  private deliver(): void {
    if (this.delivering || this.destroyed) return;
    const job = this.nextDone();
    if (!job) {
      this.pump();
      this.settle();
      return;
    }
    this.delivering = true;
    this.deliverJob(job).then(
      () => {
        this.delivering = false;
        this.queue.splice(this.queue.indexOf(job), 1);
        this.deliver();
      },
      (error: unknown) => {
        this.delivering = false;
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
  }

  /**
   * The batch's rows in input order: results are passed on, failed rows rejected (one
   * error per failed part, shared by its rows); with `onError: 'fail'` the first failed
   * row throws an error naming every failed row of the batch.
   */
  private async deliverJob(job: Job<In, R>): Promise<void> {
    const failedAt = new Map<number, Failure>();
    for (const failure of job.failures) for (const at of failure.at) failedAt.set(at, failure);
    const errors = new Map<Failure, BatchError>();
    for (let i = 0; i < job.rows.length; i++) {
      if (this.destroyed) return;
      const failure = failedAt.get(i);
      if (failure === undefined) {
        const rejecting = this.pushResult(job, i);
        if (rejecting) await rejecting;
        continue;
      }
      if (this.settings.onError === 'fail') {
        this.metrics.failedBatches += job.failures.length;
        throw this.failedError(job, job.failures);
      }
      let error = errors.get(failure);
      if (!error) {
        this.metrics.failedBatches++;
        error = this.failedError(job, [failure]);
        errors.set(failure, error);
      }
      await this.reject(job.rows[i], job.firstIndex + i, error, reasonWhy(failure));
    }
  }

  /** Passes on the row at position `i` with its result; a promise only when the row is rejected. */
  private pushResult(job: Job<In, R>, i: number): Promise<void> | undefined {
    const { merge } = this.settings;
    const row = job.rows[i];
    const index = job.firstIndex + i;
    const result = job.results[i];
    let out: Out;
    try {
      out = merge ? merge(row, result, index) : (result as unknown as Out);
      if (out === null || out === undefined) throw new TypeError(`${merge ? 'merge returned' : 'the result is'} ${out}`);
    } catch (error) {
      const rowError = new RowError(this.stage, index, originOf(row), reasonOf(error), error);
      if (this.settings.onError === 'fail') throw rowError;
      return this.reject(row, index, rowError, reasonOf(error));
    }
    this.pushOut(row, out);
    return undefined;
  }

  /** A BatchError for failed parts of a batch: their rows, and each part's reason when there are several. */
  private failedError(job: Job<In, R>, failures: readonly Failure[]): BatchError {
    const parts = [...failures].sort((a, b) => a.at[0] - b.at[0]);
    const ranges = this.rangesOf(job, parts.flatMap((f) => f.at).sort((a, b) => a - b));
    let reason = reasonWhy(parts[0]);
    if (parts.length > 1) {
      reason = parts.slice(0, 10).map((f) => `${rowsText(this.rangesOf(job, f.at))}: ${reasonWhy(f)}`).join('; ');
      if (parts.length > 10) reason += `; … (${parts.length} parts)`;
    }
    return new BatchError(this.stage, job.seq, ranges, Math.max(...parts.map((f) => f.attempts)), reason, parts[0].error);
  }

  /** Ascending positions in a batch as ranges of row numbers within the stage, with their origins. */
  private rangesOf(job: Job<In, R>, positions: readonly number[]): RowRange[] {
    const ranges: RowRange[] = [];
    for (let k = 0; k < positions.length; ) {
      let end = k;
      while (end + 1 < positions.length && positions[end + 1] === positions[end] + 1) end++;
      const [a, b] = [positions[k], positions[end]];
      ranges.push({ first: job.firstIndex + a, last: job.firstIndex + b, firstOrigin: originOf(job.rows[a]), lastOrigin: originOf(job.rows[b]) });
      k = end + 1;
    }
    return ranges;
  }

  private reject(row: In, index: number, error: Error, reason: string): Promise<void> {
    this.stats.rejected++;
    this.metrics.rejectedRows++;
    return new Promise((resolve, reject) => {
      sendReject(this, { stage: this.stage, reason, error, row, index, origin: originOf(row) }, (err) => (err ? reject(err) : resolve()));
    });
  }
}

const reasonWhy = (failure: Failure): string => `${reasonOf(failure.error)} (${failure.why})`;

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

function resolveSettings<In, R, Out>(fn: ServiceFunction<In, R>, options: unknown): Settings<In, R, Out> {
  const o = checkOptions('options', options) as CallServiceOptions<In, R, Out>;
  const size = o.batchSize === undefined ? 100 : checkInteger('batchSize', o.batchSize, 1);
  let limiter: RateLimiter | null = null;
  if (o.rate instanceof RateLimiter) limiter = o.rate;
  else if (o.rate !== undefined) {
    checkOptions('rate', o.rate);
    limiter = new RateLimiter(o.rate);
  }
  let maxExtraCalls = 0;
  if (o.isolate === true) maxExtraCalls = Math.max(2, 4 * Math.ceil(Math.log2(size)));
  else if (o.isolate !== undefined && o.isolate !== false) {
    const isolate = checkOptions('isolate', o.isolate) as { maxExtraCalls?: number };
    maxExtraCalls = isolate.maxExtraCalls === undefined ? Math.max(2, 4 * Math.ceil(Math.log2(size))) : checkInteger('isolate.maxExtraCalls', isolate.maxExtraCalls, 0);
  }
  if (o.ordered !== undefined && typeof o.ordered !== 'boolean') fail('ordered', 'a boolean', o.ordered);
  return {
    fn,
    batch: {
      size,
      maxBytes: o.maxBytes === undefined ? undefined : checkInteger('maxBytes', o.maxBytes, 1, true),
      maxWaitMs: o.maxWaitMs === undefined ? undefined : checkInteger('maxWaitMs', o.maxWaitMs, 1, true),
      sizeOf: o.sizeOf === undefined ? undefined : checkFunction<(row: In) => number>('sizeOf', o.sizeOf),
    },
    concurrency: o.concurrency === undefined ? 1 : checkInteger('concurrency', o.concurrency, 1),
    limiter,
    retry: resolveRetry(o.retries),
    timeoutMs: o.timeoutMs === undefined ? 30_000 : checkInteger('timeoutMs', o.timeoutMs, 1, true),
    ordered: o.ordered ?? true,
    onError: o.onError === undefined ? 'fail' : checkOneOf('onError', o.onError, ['fail', 'reject'] as const),
    maxExtraCalls,
    merge: o.merge === undefined ? null : checkFunction<(row: In, result: R, index: number) => Out>('merge', o.merge),
    key: o.idempotencyKey === undefined ? defaultKey : checkFunction<(rows: readonly In[], batch: number) => string>('idempotencyKey', o.idempotencyKey),
    highWaterMark: checkHighWaterMark('highWaterMark', o.highWaterMark),
  };
}

/**
 * Calls an external service with batches of rows: `fn(rows, { signal, attempt, key, batch })`
 * returns one result per row, merged into the rows (or replacing them). Batches are formed
 * by size, bytes or time; calls run `concurrency` at a time under a shared rate limit, are
 * retried with exponential backoff and jitter (honouring `Retry-After`), time out, and are
 * cancelled with the pipeline. Delivery to the service is at-least-once: a retried call
 * may repeat an effect the service already applied, so send the `key` as an idempotency key.
 *
 * Per-item failure: when the service processes a batch but refuses some of its rows (a
 * bulk API's per-item errors), `fn` returns `itemFailed(reason, { status?, retryable?,
 * retryAfter? })` in those rows' places. Only those rows are sent again, together, in a
 * later call that counts as a retry (attempts, backoff, `Retry-After`, budget, rate limit
 * and deadline apply) under a key of its own (`key.r2`, `key.r3`, …); a row that got a
 * result is never sent again and leaves the stage once. A batch's rows leave together, in
 * input order, when each has a result or has failed for good; rows that still fail go to
 * `onError` ('fail': one `BatchError` naming them all; 'reject': each with its own reason).
 *
 * @param fn The call; `postJson(url)` makes one for a JSON HTTP API.
 * @example
 * callService(postJson('https://registry.example/lookup', { headers: { authorization: `Bearer ${token}` } }), {
 *   batchSize: 500, concurrency: 4, rate: { calls: 10, per: 1_000 }, retries: { attempts: 5 },
 *   merge: (row, owner) => ({ ...row, owner }), onError: 'reject',
 * })
 * @example
 * // A bulk API answering { items: [{ owner } | { error, status }] }: 429/5xx items are retried alone.
 * callService(postJson(url, {
 *   results: (body) => (body as Bulk).items.map((item) => ('error' in item ? itemFailed(item.error, { status: item.status }) : item.owner)),
 * }), { batchSize: 500, retries: { attempts: 4 }, onError: 'reject' })
 */
export function callService<In, R, Out = R>(fn: ServiceFunction<In, R>, options: CallServiceOptions<In, R, Out> = {}): ServiceStage<In, Out> {
  checkFunction('fn', fn);
  return new ServiceStageImpl<In, R, Out>(stageName('callService', fn), resolveSettings<In, R, Out>(fn, options));
}
