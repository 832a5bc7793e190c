import { expect } from 'chai';
import { RateLimiter } from '../../lib/service/rate-limiter.js';
import { Aimd, TokenBucket } from '../../lib/service/token-bucket.js';
import { mostInWindow } from '../helpers/fake-service.js';
import { random } from '../helpers/csv.js';
import { thrownBy } from '../helpers/streams.js';

describe('TokenBucket (no clock)', () => {
  it('lets `calls` through at once, then one each time a spent token comes back `per` later', () => {
    const b = new TokenBucket(3, 100);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(10), b.tryTake(10)]).to.deep.equal([true, true, true, false]);
    expect(b.waitMs(10)).to.equal(90);
    expect(b.tryTake(99)).to.equal(false);
    expect(b.tryTake(100)).to.equal(true);
    expect(b.tryTake(100)).to.equal(true);
    expect(b.waitMs(100)).to.equal(10);
    expect(b.tryTake(110)).to.equal(true);
    expect(b.waitMs(110)).to.equal(90);
  });

  it('never starts more than `calls` calls in any window of `per` (random arrivals, 10,000 tries)', () => {
    const rnd = random(7);
    const b = new TokenBucket(5, 1_000);
    const granted: number[] = [];
    let now = 0;
    for (let i = 0; i < 10_000; i++) {
      now += rnd() * 60;
      if (b.tryTake(now)) granted.push(now);
    }
    expect(mostInWindow(granted, 1_000)).to.equal(5);
    // …and it is not stingy: over the run it grants close to 5 per 1,000 ms.
    expect(granted.length).to.be.within(Math.floor((now / 1_000) * 5 * 0.95), Math.ceil((now / 1_000) * 5) + 5);
  });

  it('a continuously refilled bucket would break the window guarantee (the control)', () => {
    // capacity 5, refill 5 per 1,000 ms: a full bucket at t=0 plus the refill in (0, 1000).
    let tokens = 5;
    let last = 0;
    const granted: number[] = [];
    for (let now = 0; now < 1_000; now += 1) {
      tokens = Math.min(5, tokens + ((now - last) * 5) / 1_000);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        granted.push(now);
      }
    }
    expect(mostInWindow(granted, 1_000)).to.be.greaterThan(5);
  });

  it('restamp: a call that starts after its grant counts its window from the real start, never earlier', () => {
    const b = new TokenBucket(1, 100);
    const slot = b.take(0);
    b.restamp(slot, 3);
    expect(b.waitMs(0)).to.equal(103);
    b.restamp(slot, 1);
    expect(b.waitMs(0)).to.equal(103);
    expect(b.take(50)).to.equal(-1);
  });

  it('scale > 1 slows the bucket down (the adaptive rate)', () => {
    const b = new TokenBucket(1, 100);
    b.scale = 4;
    expect(b.tryTake(0)).to.equal(true);
    expect(b.waitMs(0)).to.equal(400);
  });
});

describe('Aimd (no clock)', () => {
  it('halves on a throttle, once per congestion event, adds a step per success, stays within [min, 1]', () => {
    const a = new Aimd({ decrease: 0.5, increase: 0.1, min: 0.2 });
    expect(a.throttled(0, 10)).to.equal(true);
    expect(a.share).to.equal(0.5);
    // Started before the decrease at 10: sent at the old rate, no second decrease.
    expect(a.throttled(5, 12)).to.equal(false);
    expect(a.share).to.equal(0.5);
    expect(a.throttled(11, 20)).to.equal(true);
    expect(a.throttled(21, 30)).to.equal(true);
    expect(a.share).to.equal(0.2);
    for (let i = 0; i < 20; i++) a.succeeded();
    expect(a.share).to.equal(1);
  });
});

describe('RateLimiter', () => {
  it('validates its options with the documented messages', () => {
    const cases: [unknown, string][] = [
      [{ calls: 0, per: 1_000 }, 'new RateLimiter(): expected `rate.calls` to be an integer from 1 and up, got `0` (number)'],
      [{ calls: 2, per: 0 }, 'new RateLimiter(): expected `rate.per` to be a finite number above 0, got `0` (number)'],
      [{ calls: 2 }, 'new RateLimiter(): expected `rate.per` to be a finite number above 0, got `undefined` (undefined)'],
      [{ calls: 2, per: 10, adaptive: { decrease: 1.5 } }, 'new RateLimiter(): expected `rate.adaptive.decrease` to be a number above 0 and at most 0.99, got `1.5` (number)'],
      [null, 'new RateLimiter(): expected `rate` to be an object, got `null`'],
    ];
    for (const [options, message] of cases) expect(thrownBy(() => new RateLimiter(options as never)).message).to.equal(message);
  });

  it('serves waiters in order, spaced by the window; leaves no timer behind', async () => {
    const limiter = new RateLimiter({ calls: 2, per: 40 });
    const started = performance.now();
    const times = await Promise.all(range(6).map(() => limiter.acquire().then((p) => p.grantedAt - started)));
    // Leeway: a timer fires at most a few ms late on an idle machine; 30 ms for a loaded one.
    expect(times[0]).to.be.below(5);
    expect(times[1]).to.be.below(5);
    for (const [i, t] of times.entries()) expect(t, `call ${i + 1}`).to.be.within(40 * Math.floor(i / 2), 40 * Math.floor(i / 2) + 30);
    expect(mostInWindow(times, 40)).to.equal(2);
    expect(limiter.stats).to.include({ granted: 6, waited: 4 });
    expect((limiter as unknown as { timer: unknown }).timer).to.equal(null);
  });

  it('a waiter whose signal aborts leaves the queue at once with the reason; the others go on', async () => {
    const limiter = new RateLimiter({ calls: 1, per: 30 });
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    const reason = new Error('stop');
    controller.abort(reason);
    let caught: unknown;
    await aborted.catch((error: unknown) => (caught = error));
    expect(caught).to.equal(reason);
    await next;
    expect(limiter.stats.granted).to.equal(2);
    // An already aborted signal fails at once.
    const error = await limiter.acquire(controller.signal).catch((e: unknown) => e);
    expect(error).to.equal(reason);
  });

  it('adaptive: a throttle halves callsPerSecond, successes bring it back, never above the configured rate', () => {
    const limiter = new RateLimiter({ calls: 10, per: 1_000, adaptive: true });
    expect(limiter.callsPerSecond).to.equal(10);
    limiter.throttled(performance.now());
    expect(limiter.callsPerSecond).to.equal(5);
    for (let i = 0; i < 100; i++) limiter.succeeded();
    expect(limiter.callsPerSecond).to.equal(10);
    // Not adaptive: throttles change nothing.
    const fixed = new RateLimiter({ calls: 10, per: 1_000 });
    fixed.throttled(performance.now());
    expect(fixed.callsPerSecond).to.equal(10);
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
