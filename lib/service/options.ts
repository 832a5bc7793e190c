// The types of callService(): its options, the context each call gets, its metrics. Apart
// from the stage so that the stage's parts (settings, calls, attempt) can name them without
// importing the stage.
import type { FlushCounts } from '../core/batcher.js';
import { optionNames } from '../core/validate.js';
import type { Stage } from '../core/stage.js';
import type { ItemFailure } from './item-failed.js';
import type { RateLimiter, RateOptions } from './rate-limiter.js';
import type { RetryOptions } from './retry.js';

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

/** The option names callService() accepts (an unknown one is a TypeError). */
export const CALL_SERVICE_OPTIONS = optionNames<CallServiceOptions<unknown, unknown, unknown>>('callService()', { batchSize: true, maxBytes: true, maxWaitMs: true, sizeOf: true, concurrency: true, rate: true, retries: true, timeoutMs: true, ordered: true, onError: true, isolate: true, merge: true, idempotencyKey: true, highWaterMark: true });

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
