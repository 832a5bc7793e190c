import { setMaxListeners } from 'node:events';
import type { TransformCallback } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { Batcher, type ClosedBatch, type FlushCounts } from '../internal/batcher.js';
import { BatchError, RowError, ServiceError, reasonOf } from '../internal/errors.js';
import { originOf } from '../internal/origin.js';
import { RateLimiter, type Permit, type RateOptions } from '../internal/rate-limiter.js';
import { sendReject } from '../internal/reject.js';
import { decide, isThrottle, resolveRetry, type ResolvedRetry, type RetryOptions } from '../internal/retry.js';
import { Stage, stageName } from '../internal/stage.js';
import { checkFunction, checkHighWaterMark, checkInteger, checkOneOf, checkOptions, fail } from '../internal/validate.js';

/** Passed to the service function with each call. */
export interface CallContext {
  /** Aborted when the call times out (`timeoutMs`) or the stage is destroyed. */
  readonly signal: AbortSignal;
  /** 1-based attempt of this call (2 and up are retries). */
  readonly attempt: number;
  /**
   * The idempotency key of the rows sent: the same for every attempt of a batch, another
   * for each batch (and for each half when a batch is split). Send it to the service
   * (e.g. an `Idempotency-Key` header) so a retried call is not applied twice.
   */
  readonly key: string;
  /** 1-based number of the batch within the stage. */
  readonly batch: number;
}

/** The user's call: one result per row, in the rows' order (sync or async). */
export type ServiceFunction<In, R> = (rows: In[], context: CallContext) => PromiseLike<readonly R[]> | readonly R[];

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
   * A batch that still fails after its retries: `'fail'` fails the pipeline with a
   * `BatchError` naming its first and last rows; `'reject'` sends each of its rows to the
   * reject channel with the reason, and the rest go on.
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
  /** Rows carried by all calls, and per call on average. */
  rowsSent: number;
  rowsPerCall: number;
  /** Calls running now, and the most at once. */
  inFlight: number;
  maxInFlight: number;
  /** Throttled (429) and timed-out calls. */
  throttled: number;
  timeouts: number;
  /** Batches (or parts) that failed for good, and the rows rejected because of them. */
  failedBatches: number;
  rejectedRows: number;
  /** Why each batch was closed: size, bytes, time (maxWaitMs), end of input. */
  flushes: Readonly<FlushCounts>;
}

/** `callService()`'s stage. */
export interface ServiceStage<In, Out> extends Stage<In, Out> {
  readonly metrics: Readonly<ServiceMetrics>;
}

interface Segment<In, R> {
  /** Offset of its first row in the batch. */
  readonly offset: number;
  readonly rows: In[];
  readonly results?: readonly R[];
  readonly error?: unknown;
  readonly attempts: number;
  readonly why?: string;
}

interface Job<In, R> {
  readonly seq: number;
  readonly rows: In[];
  /** 1-based number within the stage of the batch's first row. */
  readonly firstIndex: number;
  readonly key: string;
  done: boolean;
  segments?: Segment<In, R>[];
}

type Outcome<R> = { ok: true; results: readonly R[] } | { ok: false; error: unknown; attempts: number; permanent: boolean; why: string };

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
 * - Rows of a batch are pushed together when it is delivered; in `ordered` mode batches
 *   are delivered in input order. Deliveries are serial (a reject may wait for its sink).
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
      batches: 0, calls: 0, retries: 0, isolationCalls: 0, rowsSent: 0, rowsPerCall: 0, inFlight: 0, maxInFlight: 0,
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
    this.ready.push({ seq, rows: batch.rows, firstIndex, key: this.settings.key(batch.rows, seq), done: false });
  }

  /** Starts ready batches while there is room in flight and in the output. */
  private pump(): void {
    while (!this.destroyed && !this.doomed && this.ready.length > 0 && this.queue.length < this.settings.concurrency && !this.outputFull) {
      const job = this.ready.shift()!;
      this.queue.push(job);
      this.solve(job.rows, 0, job.key, job, { left: this.settings.maxExtraCalls }).then(
        (segments) => {
          if (this.destroyed) return;
          job.segments = segments;
          job.done = true;
          if (this.settings.onError === 'fail' && segments.some((s) => s.error !== undefined)) this.doomed = true;
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

  /** Calls for `rows`; on a permanent failure, splits them to isolate the poison rows. */
  private async solve(rows: In[], offset: number, key: string, job: Job<In, R>, split: { left: number }): Promise<Segment<In, R>[]> {
    const outcome = await this.callWithRetries(rows, key, job.seq);
    if (outcome.ok) return [{ offset, rows, results: outcome.results, attempts: 1 }];
    const splittable = outcome.permanent && !(outcome.error instanceof ServiceError && outcome.error.kind === 'response');
    if (!splittable || rows.length === 1 || split.left < 2) {
      let why = outcome.why;
      if (splittable && rows.length > 1 && this.settings.maxExtraCalls > 0) why += `; not split further: maxExtraCalls (${this.settings.maxExtraCalls}) reached`;
      return [{ offset, rows, error: outcome.error, attempts: outcome.attempts, why }];
    }
    split.left -= 2;
    this.metrics.isolationCalls += 2;
    const middle = Math.ceil(rows.length / 2);
    const left = await this.solve(rows.slice(0, middle), offset, `${key}.1`, job, split);
    const right = await this.solve(rows.slice(middle), offset + middle, `${key}.2`, job, split);
    return [...left, ...right];
  }

  private async callWithRetries(rows: In[], key: string, batch: number): Promise<Outcome<R>> {
    const { retry, limiter } = this.settings;
    const signal = this.controller.signal;
    const deadline = Date.now() + retry.deadlineMs;
    for (let attempt = 1; ; attempt++) {
      const permit = limiter ? await limiter.acquire(signal) : null;
      if (signal.aborted) throw signal.reason;
      const m = this.metrics;
      m.calls++;
      if (attempt > 1) m.retries++;
      m.rowsSent += rows.length;
      m.rowsPerCall = m.rowsSent / m.calls;
      m.inFlight++;
      m.maxInFlight = Math.max(m.maxInFlight, m.inFlight);
      let error: unknown;
      let timedOut = false;
      try {
        const results = await this.invoke(rows, { attempt, key, batch }, permit, deadline);
        retry.budget.refund();
        limiter?.succeeded();
        return { ok: true, results };
      } catch (caught) {
        if (signal.aborted) throw signal.reason;
        error = caught;
        timedOut = caught instanceof ServiceError && caught.kind === 'timeout';
      } finally {
        m.inFlight--;
      }
      if (timedOut) m.timeouts++;
      if (isThrottle(error)) {
        m.throttled++;
        if (permit) limiter?.throttled(permit.grantedAt);
      }
      const decision = decide(error, attempt, retry, Date.now(), timedOut);
      if (!decision.retry) return { ok: false, error, attempts: attempt, permanent: decision.permanent, why: decision.why };
      if (Date.now() + decision.delayMs >= deadline) {
        return { ok: false, error, attempts: attempt, permanent: false, why: `its deadline of ${retry.deadlineMs} ms (retries.deadlineMs) would pass` };
      }
      await sleep(decision.delayMs, signal);
    }
  }

  /** One attempt: the user's function under a timeout, its results checked. */
  private async invoke(rows: In[], context: Omit<CallContext, 'signal'>, permit: Permit | null, deadline: number): Promise<readonly R[]> {
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
      return results as readonly R[];
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

  private async deliverJob(job: Job<In, R>): Promise<void> {
    for (const segment of job.segments!) {
      if (this.destroyed) return;
      if (segment.error === undefined) await this.pushResults(job, segment);
      else await this.failSegment(job, segment);
    }
  }

  private async pushResults(job: Job<In, R>, segment: Segment<In, R>): Promise<void> {
    const { merge } = this.settings;
    const results = segment.results!;
    for (let i = 0; i < segment.rows.length; i++) {
      if (this.destroyed) return;
      const row = segment.rows[i];
      const index = job.firstIndex + segment.offset + i;
      let out: Out;
      try {
        out = merge ? merge(row, results[i], index) : (results[i] as unknown as Out);
        if (out === null || out === undefined) throw new TypeError(`${merge ? 'merge returned' : 'the result is'} ${out}`);
      } catch (error) {
        const rowError = new RowError(this.stage, index, originOf(row), reasonOf(error), error);
        if (this.settings.onError === 'fail') throw rowError;
        await this.reject(row, index, rowError, reasonOf(error));
        continue;
      }
      this.pushOut(row, out);
    }
  }

  private async failSegment(job: Job<In, R>, segment: Segment<In, R>): Promise<void> {
    this.metrics.failedBatches++;
    const first = job.firstIndex + segment.offset;
    const last = first + segment.rows.length - 1;
    const reason = `${reasonOf(segment.error)} (${segment.why})`;
    const error = new BatchError(this.stage, job.seq, {
      first, last, firstOrigin: originOf(segment.rows[0]), lastOrigin: originOf(segment.rows[segment.rows.length - 1]),
    }, segment.attempts, reason, segment.error);
    if (this.settings.onError === 'fail') throw error;
    for (let i = 0; i < segment.rows.length; i++) {
      if (this.destroyed) return;
      await this.reject(segment.rows[i], first + i, error, reason);
    }
  }

  private reject(row: In, index: number, error: Error, reason: string): Promise<void> {
    this.stats.rejected++;
    this.metrics.rejectedRows++;
    return new Promise((resolve, reject) => {
      sendReject(this, { stage: this.stage, reason, error, row, index, origin: originOf(row) }, (err) => (err ? reject(err) : resolve()));
    });
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
 * @param fn The call; `postJson(url)` makes one for a JSON HTTP API.
 * @example
 * callService(postJson('https://registry.example/lookup', { headers: { authorization: `Bearer ${token}` } }), {
 *   batchSize: 500, concurrency: 4, rate: { calls: 10, per: 1_000 }, retries: { attempts: 5 },
 *   merge: (row, owner) => ({ ...row, owner }), onError: 'reject',
 * })
 */
export function callService<In, R, Out = R>(fn: ServiceFunction<In, R>, options: CallServiceOptions<In, R, Out> = {}): ServiceStage<In, Out> {
  checkFunction('fn', fn);
  return new ServiceStageImpl<In, R, Out>(stageName('callService', fn), resolveSettings<In, R, Out>(fn, options));
}
