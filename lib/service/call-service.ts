import { setMaxListeners } from 'node:events';
import type { TransformCallback } from 'node:stream';
import { Batcher, type ClosedBatch } from '../core/batcher.js';
import { RowError, reasonOf } from '../core/errors.js';
import { BatchError } from './errors.js';
import { originOf } from '../core/origin.js';
import { sendReject } from '../core/reject.js';
import { ServiceCalls } from './calls.js';
import type { CallServiceOptions, ServiceFunction, ServiceMetrics, ServiceStage } from './options.js';
import { failedError, reasonWhy, type Failure, type Job } from './job.js';
import { resolveServiceSettings, type ServiceSettings } from './settings.js';
import { Stage, stageName } from '../core/stage.js';
import { checkFunction, named } from '../core/validate.js';

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
  private readonly calls: ServiceCalls<In, R>;
  private readonly ready: Job<In, R>[] = [];
  private readonly queue: Job<In, R>[] = [];
  private heldWrite: TransformCallback | null = null;
  private heldFlush: TransformCallback | null = null;
  private delivering = false;
  /** A batch failed for good and the pipeline will fail: start no more paid calls. */
  private doomed = false;
  private batched = 0;
  readonly metrics: ServiceMetrics;

  constructor(name: string, private readonly settings: ServiceSettings<In, R, Out>) {
    super(name, settings.highWaterMark);
    this.batcher = new Batcher(settings.batch, this.onTime);
    this.metrics = {
      batches: 0, calls: 0, retries: 0, isolationCalls: 0, itemFailures: 0, rowsSent: 0, rowsPerCall: 0, inFlight: 0, maxInFlight: 0,
      throttled: 0, timeouts: 0, failedBatches: 0, rejectedRows: 0, flushes: this.batcher.flushes,
    };
    this.calls = new ServiceCalls(settings, this.controller.signal, this.metrics);
    // One listener per call in flight, per backoff and per rate wait.
    setMaxListeners(0, this.controller.signal);
  }

  override _transform(row: In, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    if (this.droppedPastLimit(callback)) return; // no call for a row past a take(n)'s limit
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
    if (this.pastLimit) {
      this.stats.filtered += batch.rows.length;
      return;
    }
    const seq = ++this.metrics.batches;
    const firstIndex = this.batched + 1;
    this.batched += batch.rows.length;
    this.ready.push({ seq, rows: batch.rows, firstIndex, key: this.settings.key(batch.rows, seq), done: false, results: [], failures: [] });
  }

  /** Starts ready batches while there is room in flight and in the output. */
  private pump(): void {
    if (this.pastLimit) {
      // Batches not started when a take(n) after this stage got its rows are never sent.
      for (const job of this.ready.splice(0)) this.stats.filtered += job.rows.length;
    }
    while (!this.destroyed && !this.doomed && this.ready.length > 0 && this.queue.length < this.settings.concurrency && !this.outputFull) {
      const job = this.ready.shift()!;
      this.queue.push(job);
      this.calls.callBatch(job).then(
        () => {
          if (this.destroyed) return;
          job.done = true;
          if (this.settings.onError === 'fail' && job.failures.length > 0) this.doomed = true;
          this.deliver();
        },
        (error: unknown) => {
          // Only an abort (the stage is being destroyed) or a bug in the stage or its calls (service-calls.ts) gets here.
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
      if (this.pastLimit) {
        // The rest are past a take(n)'s limit: dropped, failed or not.
        this.stats.filtered += job.rows.length - i;
        return;
      }
      const failure = failedAt.get(i);
      if (failure === undefined) {
        const rejecting = this.pushResult(job, i);
        if (rejecting) await rejecting;
        continue;
      }
      if (this.settings.onError === 'fail') {
        this.metrics.failedBatches += job.failures.length;
        throw failedError(this.stage, job, job.failures);
      }
      let error = errors.get(failure);
      if (!error) {
        this.metrics.failedBatches++;
        error = failedError(this.stage, job, [failure]);
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

  private reject(row: In, index: number, error: Error, reason: string): Promise<void> {
    this.stats.rejected++;
    this.metrics.rejectedRows++;
    return new Promise((resolve, reject) => {
      sendReject(this, { stage: this.stage, reason, error, row, index, origin: originOf(row) }, (err) => (err ? reject(err) : resolve()));
    });
  }
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
  return named('callService()', () => {
    checkFunction('fn', fn);
    return new ServiceStageImpl<In, R, Out>(stageName('callService', fn), resolveServiceSettings<In, R, Out>(fn, options));
  });
}
