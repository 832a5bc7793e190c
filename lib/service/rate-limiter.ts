import { setMaxListeners } from 'node:events';
import { ADAPTIVE_OPTIONS, Aimd, TokenBucket, type AdaptiveOptions } from './token-bucket.js';
import { checkOptions, fail, named, optionNames } from '../core/validate.js';

export type { AdaptiveOptions } from './token-bucket.js';

export interface RateOptions {
  /** At most this many calls start in any window of `per` ms. */
  calls: number;
  /** The window, in milliseconds. */
  per: number;
  /**
   * Lower the rate on throttled calls (HTTP 429) and raise it again on successes (AIMD),
   * never above `calls` per `per`.
   * @default false
   */
  adaptive?: boolean | AdaptiveOptions;
}

/** The option names rate accepts (an unknown one is a TypeError). */
const RATE_OPTIONS = optionNames<RateOptions>('rate', { calls: true, per: true, adaptive: true });

/** Leave to start one call: call `start()` at the moment the call really starts. */
export interface Permit {
  /** When the limiter let the call go (`performance.now()`). */
  readonly grantedAt: number;
  /** Counts the window from now rather than from the grant (only ever later). */
  start(): void;
}

interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const positive = (path: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(path, 'a finite number above 0', value);
  return value;
};

const share = (path: string, value: unknown, fallback: number, max: number): number => {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || value > max) fail(path, `a number above 0 and at most ${max}`, value);
  return value;
};

/**
 * Paces calls to a service: at most `calls` calls start in any window of `per` ms. One
 * limiter may be shared by every call of a stage, by several stages and by several
 * pipelines that hit the same service (pass the same object as their `rate`). Waiters
 * are served in order; a waiter whose signal aborts leaves the queue. A timer exists only
 * while someone waits.
 *
 * @example
 * const registry = new RateLimiter({ calls: 10, per: 1_000, adaptive: true });
 * callService(lookup, { rate: registry });   // in as many stages as you like
 */
export class RateLimiter {
  private readonly bucket: TokenBucket;
  private readonly aimd: Aimd | null;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Calls let through, calls that had to wait, and the total time they waited. */
  readonly stats = { granted: 0, waited: 0, waitedMs: 0, decreases: 0 };

  constructor(options: RateOptions) {
    const { calls, per, adaptive } = named('new RateLimiter()', () => {
      const o = checkOptions('rate', options, RATE_OPTIONS) as unknown as RateOptions;
      const calls = o.calls;
      if (typeof calls !== 'number' || !Number.isInteger(calls) || calls < 1) fail('rate.calls', 'an integer from 1 and up', calls);
      const per = positive('rate.per', o.per);
      let adaptive: AdaptiveOptions | null = null;
      if (o.adaptive === true) adaptive = {};
      else if (o.adaptive !== undefined && o.adaptive !== false) {
        const a = checkOptions('rate.adaptive', o.adaptive, ADAPTIVE_OPTIONS) as AdaptiveOptions;
        adaptive = {
          decrease: share('rate.adaptive.decrease', a.decrease, 0.5, 0.99),
          increase: share('rate.adaptive.increase', a.increase, 0.05, 1),
          min: share('rate.adaptive.min', a.min, 0.05, 1),
        };
      }
      return { calls, per, adaptive };
    });
    this.bucket = new TokenBucket(calls, per);
    this.aimd = adaptive && new Aimd(adaptive);
  }

  /** The configured limit: calls per `per` ms. */
  get limit(): { calls: number; per: number } {
    return { calls: this.bucket.calls, per: this.bucket.per };
  }

  /** Calls per second allowed now (below the configured rate while adapting to 429s). */
  get callsPerSecond(): number {
    return ((this.bucket.calls / this.bucket.per) * 1000) / this.bucket.scale;
  }

  /**
   * Waits for a free slot. The call should then `start()` its permit right as it starts:
   * between the grant and the call a few microtasks (or a busy loop) pass, and the window
   * is about when calls start.
   */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = performance.now();
    if (this.waiters.length === 0) {
      const slot = this.bucket.take(now);
      if (slot >= 0) {
        this.stats.granted++;
        return Promise.resolve(this.permit(slot, now));
      }
    }
    return new Promise((resolve, reject) => {
      const since = now;
      const waiter: Waiter = {
        resolve: (permit) => {
          this.stats.waited++;
          this.stats.waitedMs += permit.grantedAt - since;
          resolve(permit);
        },
        reject,
        signal,
      };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          if (this.waiters.length === 0) this.stopTimer();
          reject(signal.reason);
        };
        // Each waiting call of a busy, shared limiter adds one listener to its stage's signal.
        setMaxListeners(0, signal);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.schedule();
    });
  }

  /** A call that started at `startedAt` was throttled (429): lower the rate if adaptive. */
  throttled(startedAt: number): void {
    if (!this.aimd) return;
    if (this.aimd.throttled(startedAt, performance.now())) this.stats.decreases++;
    this.bucket.scale = 1 / this.aimd.share;
  }

  /** A call succeeded: raise a lowered rate a step (never above the configured one). */
  succeeded(): void {
    if (!this.aimd) return;
    this.aimd.succeeded();
    this.bucket.scale = 1 / this.aimd.share;
  }

  private permit(slot: number, grantedAt: number): Permit {
    return { grantedAt, start: () => this.bucket.restamp(slot, performance.now()) };
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const now = performance.now();
    while (this.waiters.length > 0) {
      const slot = this.bucket.take(now);
      if (slot < 0) break;
      this.grant(slot, now);
    }
    if (this.waiters.length === 0) return;
    // +1: setTimeout rounds to whole milliseconds and a token must be back when we look.
    this.timer = setTimeout(this.wake, Math.ceil(this.bucket.waitMs(now)) + 1);
  }

  private readonly wake = (): void => {
    this.timer = null;
    this.schedule();
  };

  private grant(slot: number, now: number): void {
    const waiter = this.waiters.shift()!;
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    this.stats.granted++;
    waiter.resolve(this.permit(slot, now));
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
