/**
 * The arithmetic of rate limiting, without timers or promises (time is passed in), so it
 * is tested without streams or clocks. `RateLimiter` (rate-limiter.ts) waits on it.
 */

import { optionNames } from '../core/validate.js';

/**
 * A bucket of `calls` tokens; a call spends one, and that token comes back `per` ms later
 * (`per × scale` while an adaptive rate is lowered). So in any window of `per` ms at most
 * `calls` calls start — the guarantee a service's "K calls per interval" limit asks for.
 * (A bucket refilled continuously at `calls/per` would let up to 2 × calls − 1 through in
 * one window: a full bucket plus the refill.) Up to `calls` calls may start at once.
 *
 * Invariant: `available` + spent tokens = `calls`; spent tokens return in the order they
 * were spent. When the scale drops (rate recovering), a token may wait behind one that
 * returns later: never early, at worst a little late.
 */
export class TokenBucket {
  private available: number;
  /** Return times of spent tokens, oldest first (a ring of at most `calls` entries). */
  private readonly returns: number[];
  private head = 0;
  private spent = 0;
  /** Tokens come back after `per × scale` ms; scale ≥ 1. */
  scale = 1;

  constructor(readonly calls: number, readonly per: number) {
    this.available = calls;
    this.returns = new Array<number>(calls);
  }

  /** Milliseconds from `now` until a token is free (0: one is free now). */
  waitMs(now: number): number {
    this.reclaim(now);
    if (this.available > 0) return 0;
    return Math.max(0, this.returns[this.head] - now);
  }

  /** Spends a token if one is free at `now`. */
  tryTake(now: number): boolean {
    return this.take(now) >= 0;
  }

  /** Spends a token if one is free at `now`: its slot for {@link restamp}, or -1. */
  take(now: number): number {
    this.reclaim(now);
    if (this.available === 0) return -1;
    this.available--;
    const slot = (this.head + this.spent) % this.calls;
    this.returns[slot] = now + this.per * this.scale;
    this.spent++;
    return slot;
  }

  /**
   * The call of the token in `slot` really started at `now` (a little after it was taken):
   * the token comes back `per` after that. Only ever later, so the guarantee holds for the
   * real start times; a token whose slot was reused meanwhile just returns a little late.
   */
  restamp(slot: number, now: number): void {
    this.returns[slot] = Math.max(this.returns[slot], now + this.per * this.scale);
  }

  private reclaim(now: number): void {
    while (this.spent > 0 && this.returns[this.head] <= now) {
      this.head = (this.head + 1) % this.calls;
      this.spent--;
      this.available++;
    }
  }
}

export interface AdaptiveOptions {
  /**
   * The rate is multiplied by this on a throttled call (429).
   * @default 0.5
   */
  decrease?: number;
  /**
   * Each successful call raises the rate by this share of the configured rate.
   * @default 0.05
   */
  increase?: number;
  /**
   * The rate never drops below this share of the configured rate.
   * @default 0.05
   */
  min?: number;
}

/** The option names rate.adaptive accepts (an unknown one is a TypeError). */
export const ADAPTIVE_OPTIONS = optionNames<AdaptiveOptions>('rate.adaptive', { decrease: true, increase: true, min: true });

/**
 * Additive increase, multiplicative decrease of a share of the configured rate (1 = the
 * configured rate, never more). One decrease per congestion event: a throttled call that
 * started before the last decrease was sent at the old rate and does not lower it again
 * (as TCP halves its window once per round trip, not once per lost packet).
 */
export class Aimd {
  share = 1;
  private lastDecrease = -Infinity;
  readonly decrease: number;
  readonly increase: number;
  readonly min: number;

  constructor(options: AdaptiveOptions = {}) {
    this.decrease = options.decrease ?? 0.5;
    this.increase = options.increase ?? 0.05;
    this.min = options.min ?? 0.05;
  }

  /** A call that started at `startedAt` was throttled, seen at `now`; true if the rate dropped. */
  throttled(startedAt: number, now: number): boolean {
    if (startedAt < this.lastDecrease) return false;
    this.lastDecrease = now;
    this.share = Math.max(this.min, this.share * this.decrease);
    return true;
  }

  succeeded(): void {
    this.share = Math.min(1, this.share + this.increase);
  }
}
