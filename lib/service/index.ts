/**
 * Calling an external (often paid) service a batch of rows at a time: `callService` batches
 * rows, calls the user's function with bounded concurrency, a rate limit, retries with
 * backoff, timeouts and a deadline, and puts the results back in row order; `postJson` is a
 * ready service function for JSON over HTTP; `itemFailed` marks one item of an answer as
 * failed so only it is sent again.
 *
 * Read first: options.ts (what a user can ask for), then call-service.ts (the stage). A
 * batch flows: call-service.ts forms it (core/batcher.ts) → calls.ts runs its attempts
 * (attempt.ts makes one call, under rate-limiter.ts and token-bucket.ts, retried as
 * retry.ts decides) → job.ts tracks which rows have results → rows leave in order, failures
 * as BatchError (errors.ts). settings.ts checks the options once.
 */
export { callService } from './call-service.js';
export type { CallServiceOptions, CallContext, ServiceFunction, ServiceMetrics, ServiceStage } from './options.js';
export { postJson, type PostJsonOptions } from './post-json.js';
export { itemFailed, type ItemFailure, type ItemFailedOptions } from './item-failed.js';
export { RateLimiter, type RateOptions, type AdaptiveOptions } from './rate-limiter.js';
export { RetryBudget, isRetryable, type RetryOptions, type RetryBudgetOptions } from './retry.js';
export { ServiceError, BatchError, type ServiceErrorKind } from './errors.js';
