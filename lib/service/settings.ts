/**
 * `callService()`'s options, checked once (errors name the option) and resolved with their
 * defaults into the settings the stage runs on. The caller's object is not kept or changed.
 */
import { randomUUID } from 'node:crypto';
import { CALL_SERVICE_OPTIONS, type CallServiceOptions, type ServiceFunction } from './options.js';
import { RateLimiter } from './rate-limiter.js';
import { resolveRetry, type ResolvedRetry } from './retry.js';
import { checkFunction, checkHighWaterMark, checkInteger, checkOneOf, checkOptions, fail, optionNames } from '../core/validate.js';

export interface ServiceSettings<In, R, Out> {
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

/** The option names of `isolate: { … }` (an unknown one is a TypeError). */
const ISOLATE_OPTIONS = optionNames<{ maxExtraCalls?: number }>('isolate', { maxExtraCalls: true });

export function resolveServiceSettings<In, R, Out>(fn: ServiceFunction<In, R>, options: unknown): ServiceSettings<In, R, Out> {
  const o = checkOptions('options', options, CALL_SERVICE_OPTIONS) as CallServiceOptions<In, R, Out>;
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
    const isolate = checkOptions('isolate', o.isolate, ISOLATE_OPTIONS) as { maxExtraCalls?: number };
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
