/**
 * When to call a service again, and after how long: pure functions of the error, the
 * attempt and the clock (both passed in), so every case is tested without a server.
 */
import { checkFunction, checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';

export interface RetryOptions {
  /**
   * Attempts in all, the first included (1: never retry). Unlimited retry is not offered.
   * @default 3
   */
  attempts?: number;
  /**
   * Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseMs × 2^(n−1))]
   * ("full jitter").
   * @default 100
   */
  baseMs?: number;
  /**
   * The cap of the exponential backoff.
   * @default 10_000
   */
  maxDelayMs?: number;
  /**
   * A `Retry-After` (seconds or an HTTP date) longer than this is not waited for: the
   * batch fails at once, with the wait the server asked for in the reason (as `got` does).
   * @default 60_000
   */
  maxRetryAfterMs?: number;
  /**
   * Which errors are worth another attempt.
   * @default isRetryable: HTTP 408, 425, 429 and 5xx but 501/505, network errors
   * (ECONNRESET, …), per-call timeouts, and errors with `retryable: true`
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /**
   * The overall deadline of a batch, from its first attempt: no attempt runs past it (its
   * signal aborts then) and no retry starts that would wait past it. With `timeoutMs`, a
   * hanging service costs at most this long per batch.
   * @default Infinity
   */
  deadlineMs?: number;
  /**
   * Retries draw on this budget; when it is spent, failing calls are not retried (a service
   * that fails every call is not hammered). Share one between stages to share the budget.
   * @default a new RetryBudget() per stage
   */
  budget?: RetryBudget;
}

/** The option names callService() retries accepts (an unknown one is a TypeError). */
const RETRY_OPTIONS = optionNames<RetryOptions>('retries', { attempts: true, baseMs: true, maxDelayMs: true, maxRetryAfterMs: true, retryOn: true, deadlineMs: true, budget: true });

export interface ResolvedRetry {
  attempts: number;
  baseMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
  retryOn: (error: unknown, attempt: number) => boolean;
  deadlineMs: number;
  budget: RetryBudget;
}

export interface RetryBudgetOptions {
  /** @default 500 */
  capacity?: number;
  /** Tokens a retry costs. @default 5 */
  retryCost?: number;
  /** Tokens a retry after a timeout costs. @default 10 */
  timeoutCost?: number;
  /** Tokens each successful call gives back (up to the capacity). @default 1 */
  successRefund?: number;
}

/** The option names new RetryBudget() accepts (an unknown one is a TypeError). */
const RETRY_BUDGET_OPTIONS = optionNames<RetryBudgetOptions>('new RetryBudget()', { capacity: true, retryCost: true, timeoutCost: true, successRefund: true });

/**
 * A retry budget after AWS SDK v3's standard retry strategy: a bucket of tokens that each
 * retry draws from and each successful call refills a little. With a service that
 * fails every call, retries stop after capacity / retryCost of them (100 by default).
 */
export class RetryBudget {
  tokens: number;
  readonly capacity: number;
  readonly retryCost: number;
  readonly timeoutCost: number;
  readonly successRefund: number;

  constructor(options: RetryBudgetOptions = {}) {
    const costs = named('new RetryBudget()', () => {
      const o = checkOptions('budget', options, RETRY_BUDGET_OPTIONS) as RetryBudgetOptions;
      return {
        capacity: o.capacity === undefined ? 500 : checkInteger('budget.capacity', o.capacity, 0),
        retryCost: o.retryCost === undefined ? 5 : checkInteger('budget.retryCost', o.retryCost, 0),
        timeoutCost: o.timeoutCost === undefined ? 10 : checkInteger('budget.timeoutCost', o.timeoutCost, 0),
        successRefund: o.successRefund === undefined ? 1 : checkInteger('budget.successRefund', o.successRefund, 0),
      };
    });
    this.capacity = costs.capacity;
    this.retryCost = costs.retryCost;
    this.timeoutCost = costs.timeoutCost;
    this.successRefund = costs.successRefund;
    this.tokens = this.capacity;
  }

  /** Takes the cost of one retry; false (and nothing taken) when the budget cannot pay it. */
  withdraw(afterTimeout: boolean): boolean {
    const cost = afterTimeout ? this.timeoutCost : this.retryCost;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** A call succeeded at its first attempt. */
  refund(): void {
    this.tokens = Math.min(this.capacity, this.tokens + this.successRefund);
  }
}

export function resolveRetry(options: unknown): ResolvedRetry {
  const o = (options === false ? { attempts: 1 } : checkOptions('retries', options, RETRY_OPTIONS)) as RetryOptions;
  const budget = o.budget ?? new RetryBudget();
  if (!(budget instanceof RetryBudget)) fail('retries.budget', 'a RetryBudget', budget);
  return {
    attempts: o.attempts === undefined ? 3 : checkInteger('retries.attempts', o.attempts, 1),
    baseMs: o.baseMs === undefined ? 100 : checkInteger('retries.baseMs', o.baseMs, 0),
    maxDelayMs: o.maxDelayMs === undefined ? 10_000 : checkInteger('retries.maxDelayMs', o.maxDelayMs, 0),
    maxRetryAfterMs: o.maxRetryAfterMs === undefined ? 60_000 : checkInteger('retries.maxRetryAfterMs', o.maxRetryAfterMs, 0, true),
    retryOn: o.retryOn === undefined ? isRetryable : checkFunction('retries.retryOn', o.retryOn),
    deadlineMs: o.deadlineMs === undefined ? Infinity : checkInteger('retries.deadlineMs', o.deadlineMs, 1, true),
    budget,
  };
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** HTTP statuses worth another attempt: request timeout, too early, too many requests, 5xx but "not implemented" and "version not supported". */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

const field = (value: unknown, name: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;

/** The HTTP status an error carries (`status`, `statusCode`, or `response.status`). */
function statusOf(error: unknown): number | undefined {
  for (const value of [field(error, 'status'), field(error, 'statusCode'), field(field(error, 'response'), 'status')]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/**
 * The default `retryOn`: an explicit `retryable` flag wins; else a retryable HTTP status,
 * or a network error code on the error or its causes (fetch wraps them: "fetch failed").
 * Anything else — a bug, a 400, an unknown error — is permanent: a paid call is not
 * repeated on a guess.
 */
export function isRetryable(error: unknown): boolean {
  const flag = field(error, 'retryable');
  if (typeof flag === 'boolean') return flag;
  const status = statusOf(error);
  if (status !== undefined) return isRetryableStatus(status);
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = field(e, 'cause'), depth++) {
    const code = field(e, 'code');
    if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  }
  return false;
}

/** A throttled call: HTTP 429 (the adaptive rate reacts to these). */
export function isThrottle(error: unknown): boolean {
  return statusOf(error) === 429 || field(error, 'throttled') === true;
}

/**
 * A `Retry-After` value in milliseconds from `now`: delay-seconds (`"120"`, or a number)
 * or an HTTP date; undefined when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: unknown, now: number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // "1.5", "-3": neither form
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait an error asks for: `retryAfterMs` (a number), `retryAfter` (seconds or an HTTP
 * date), or a `retry-after` header on `headers` / `response.headers` (a Headers object or
 * a plain one).
 */
export function retryAfterOf(error: unknown, now: number): number | undefined {
  const ms = field(error, 'retryAfterMs');
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  const direct = parseRetryAfter(field(error, 'retryAfter'), now);
  if (direct !== undefined) return direct;
  for (const headers of [field(error, 'headers'), field(field(error, 'response'), 'headers')]) {
    if (headers === undefined || headers === null) continue;
    const get = field(headers, 'get');
    const value = typeof get === 'function' ? (get as (name: string) => unknown).call(headers, 'retry-after') : field(headers, 'retry-after') ?? field(headers, 'Retry-After');
    const parsed = parseRetryAfter(value, now);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

/** Full jitter: a random wait in [0, min(cap, base × 2^(attempt−1))]. `random` in [0, 1). */
export function backoff(attempt: number, baseMs: number, maxDelayMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  return Math.floor(random() * (ceiling + 1));
}

/** Not to be retried; `permanent`: the error itself is not worth retrying (not a spent limit). */
export interface Stop {
  readonly retry: false;
  readonly permanent: boolean;
  readonly why: string;
}

export type Decision = { readonly retry: true; readonly delayMs: number } | Stop;

/**
 * After attempt `attempt` failed with `error`: retry, and after how long, or stop, and why.
 * The order matters: a permanent error is never retried; the attempts limit and a too
 * long Retry-After are checked before the budget is drawn on.
 */
export function decide(error: unknown, attempt: number, policy: ResolvedRetry, now: number, timedOut: boolean, random: () => number = Math.random): Decision {
  const judged = judge(error, attempt, policy);
  if (judged) return judged;
  if (attempt >= policy.attempts) return { retry: false, permanent: false, why: `gave up after ${attempt} attempt(s)` };
  const retryAfter = retryAfterOf(error, now);
  if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) return { retry: false, permanent: false, why: tooLong(retryAfter, policy) };
  if (!policy.budget.withdraw(timedOut)) return { retry: false, permanent: false, why: 'the retry budget is spent' };
  return { retry: true, delayMs: Math.max(backoff(attempt, policy.baseMs, policy.maxDelayMs, random), retryAfter ?? 0) };
}

/** Whether `retryOn` calls the error permanent: that decision, else null. */
function judge(error: unknown, attempt: number, policy: ResolvedRetry): Stop | null {
  try {
    if (policy.retryOn(error, attempt)) return null;
  } catch (retryOnError) {
    return { retry: false, permanent: true, why: `retryOn threw: ${retryOnError instanceof Error ? retryOnError.message : String(retryOnError)}` };
  }
  return { retry: false, permanent: true, why: 'not retryable' };
}

const tooLong = (retryAfter: number, policy: ResolvedRetry): string =>
  `the service asked to wait ${Math.ceil(retryAfter / 1000)} s, more than maxRetryAfterMs (${policy.maxRetryAfterMs} ms)`;

/** What to do with each failed item of an answer, and how long to wait before sending the retried ones. */
export interface ItemsDecision {
  /** One per failed item, in the order given: `{ retry: true }` or why it failed for good. */
  readonly items: readonly ({ readonly retry: true } | Stop)[];
  /** The wait before the retried items are sent again (0 when none is). */
  readonly delayMs: number;
}

/**
 * After attempt `attempt` succeeded as a call but some of its items failed (`errors`, one
 * per failed item): `retryOn` judges each item's error on its own, and an item whose
 * `Retry-After` is longer than `maxRetryAfterMs` fails at once. The rest go together in one
 * retry, which costs one retry from the budget and waits the backoff or the longest
 * `Retry-After` among them; the attempts limit and a spent budget end all of them, with
 * the same reason.
 */
export function decideItems(errors: readonly unknown[], attempt: number, policy: ResolvedRetry, now: number, random: () => number = Math.random): ItemsDecision {
  const items: (ItemsDecision['items'][number] | null)[] = errors.map((error) => judge(error, attempt, policy));
  let retryAfter: number | undefined;
  const exhausted = attempt >= policy.attempts;
  errors.forEach((error, i) => {
    if (items[i] !== null) return;
    if (exhausted) {
      items[i] = { retry: false, permanent: false, why: `gave up after ${attempt} attempt(s)` };
      return;
    }
    const wait = retryAfterOf(error, now);
    if (wait !== undefined && wait > policy.maxRetryAfterMs) items[i] = { retry: false, permanent: false, why: tooLong(wait, policy) };
    else if (wait !== undefined) retryAfter = Math.max(retryAfter ?? 0, wait);
  });
  const again = items.some((item) => item === null);
  const spent = again && !policy.budget.withdraw(false);
  const decided = items.map((item): ItemsDecision['items'][number] => item ?? (spent ? { retry: false, permanent: false, why: 'the retry budget is spent' } : { retry: true }));
  return { items: decided, delayMs: again && !spent ? Math.max(backoff(attempt, policy.baseMs, policy.maxDelayMs, random), retryAfter ?? 0) : 0 };
}
