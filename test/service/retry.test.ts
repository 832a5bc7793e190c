import { expect } from 'chai';
import { ServiceError } from '../../lib/service/errors.js';
import { RetryBudget, backoff, decide, decideItems, isRetryable, isThrottle, parseRetryAfter, resolveRetry, retryAfterOf } from '../../lib/service/retry.js';
import { thrownBy } from '../helpers/streams.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const status = (s: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(`HTTP ${s}`), { status: s }, extra);

describe('retry policy (no clock)', () => {
  describe('isRetryable (the default retryOn)', () => {
    it('retries 408, 425, 429 and 5xx but 501/505; not other 4xx', () => {
      const yes = [408, 425, 429, 500, 502, 503, 504, 599];
      const no = [400, 401, 403, 404, 409, 422, 501, 505];
      for (const s of yes) expect(isRetryable(status(s)), String(s)).to.equal(true);
      for (const s of no) expect(isRetryable(status(s)), String(s)).to.equal(false);
      expect(isRetryable({ statusCode: 503 })).to.equal(true);
      expect(isRetryable({ response: { status: 400 } })).to.equal(false);
    });

    it('retries network errors, also wrapped in a cause (fetch failed → ECONNRESET)', () => {
      expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).to.equal(true);
      expect(isRetryable(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))).to.equal(true);
      expect(isRetryable(Object.assign(new Error('no such host'), { code: 'ENOTFOUND' }))).to.equal(false);
    });

    it('an explicit retryable flag wins; unknown errors are permanent (no paid call on a guess)', () => {
      expect(isRetryable(new ServiceError('timeout', { kind: 'timeout', retryable: true }))).to.equal(true);
      expect(isRetryable(status(503, { retryable: false }))).to.equal(false);
      expect(isRetryable(new Error('bug'))).to.equal(false);
      expect(isRetryable('a string')).to.equal(false);
      expect(isRetryable(null)).to.equal(false);
    });

    it('isThrottle: 429 only', () => {
      expect(isThrottle(status(429))).to.equal(true);
      expect(isThrottle(status(503))).to.equal(false);
    });
  });

  describe('Retry-After', () => {
    it('reads delay-seconds and HTTP dates; a past date is 0; garbage is ignored', () => {
      expect(parseRetryAfter('1', NOW)).to.equal(1_000);
      expect(parseRetryAfter(' 120 ', NOW)).to.equal(120_000);
      expect(parseRetryAfter(2, NOW)).to.equal(2_000);
      expect(parseRetryAfter('Wed, 01 May 2024 12:00:03 GMT', NOW)).to.equal(3_000);
      expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', NOW)).to.equal(0);
      for (const bad of ['', '-1', '1.5', 'soon', undefined, null, {}]) expect(parseRetryAfter(bad, NOW), String(bad)).to.equal(undefined);
    });

    it('finds it on the error: retryAfterMs, retryAfter, headers (plain or Headers), response.headers', () => {
      expect(retryAfterOf({ retryAfterMs: 250 }, NOW)).to.equal(250);
      expect(retryAfterOf(new ServiceError('x', { kind: 'status', retryable: true, status: 429, retryAfter: '2' }), NOW)).to.equal(2_000);
      expect(retryAfterOf({ headers: { 'retry-after': '3' } }, NOW)).to.equal(3_000);
      expect(retryAfterOf({ response: { headers: new Headers({ 'Retry-After': '4' }) } }, NOW)).to.equal(4_000);
      expect(retryAfterOf(new Error('none'), NOW)).to.equal(undefined);
    });
  });

  describe('backoff (full jitter)', () => {
    it('is uniform in [0, min(cap, base × 2^(attempt−1))]', () => {
      expect(backoff(1, 100, 10_000, () => 0)).to.equal(0);
      expect(backoff(1, 100, 10_000, () => 0.999999)).to.equal(100);
      expect(backoff(3, 100, 10_000, () => 0.999999)).to.equal(400);
      expect(backoff(30, 100, 10_000, () => 0.999999)).to.equal(10_000);
      expect(backoff(5_000, 100, 10_000, () => 0.5)).to.equal(5_000);
    });
  });

  describe('decide', () => {
    const policy = (options = {}) => resolveRetry({ attempts: 3, baseMs: 100, maxDelayMs: 1_000, ...options });

    it('retries a retryable error after the backoff, up to the attempts', () => {
      const p = policy();
      expect(decide(status(503), 1, p, NOW, false, () => 0.5)).to.deep.equal({ retry: true, delayMs: 50 });
      expect(decide(status(503), 2, p, NOW, false, () => 0.5)).to.deep.equal({ retry: true, delayMs: 100 });
      expect(decide(status(503), 3, p, NOW, false)).to.deep.equal({ retry: false, permanent: false, why: 'gave up after 3 attempt(s)' });
    });

    it('never retries a permanent error (400), whatever is left', () => {
      expect(decide(status(400), 1, policy(), NOW, false)).to.deep.equal({ retry: false, permanent: true, why: 'not retryable' });
    });

    it('waits at least Retry-After; one above maxRetryAfterMs is not waited for', () => {
      const p = policy({ maxRetryAfterMs: 5_000 });
      expect(decide(status(429, { retryAfter: '2' }), 1, p, NOW, false, () => 0.5)).to.deep.equal({ retry: true, delayMs: 2_000 });
      expect(decide(status(429, { retryAfter: 'Wed, 01 May 2024 12:00:04 GMT' }), 1, p, NOW, false, () => 0)).to.deep.equal({ retry: true, delayMs: 4_000 });
      expect(decide(status(429, { retryAfter: '3600' }), 1, p, NOW, false)).to.deep.equal({
        retry: false, permanent: false, why: 'the service asked to wait 3600 s, more than maxRetryAfterMs (5000 ms)',
      });
    });

    it('a custom retryOn decides (and one that throws means: do not retry)', () => {
      const p = policy({ retryOn: (error: unknown, attempt: number) => (error as Error).message === 'flaky' && attempt < 2 });
      expect(decide(new Error('flaky'), 1, p, NOW, false).retry).to.equal(true);
      expect(decide(new Error('flaky'), 2, p, NOW, false).retry).to.equal(false);
      const q = policy({ retryOn: () => {
        throw new Error('oops');
      } });
      expect(decide(new Error('x'), 1, q, NOW, false)).to.deep.equal({ retry: false, permanent: true, why: 'retryOn threw: oops' });
    });

    it('the retry budget: retries stop when it is spent; first-attempt successes refill it', () => {
      const budget = new RetryBudget({ capacity: 20, retryCost: 5, timeoutCost: 10, successRefund: 1 });
      const p = policy({ attempts: 100, budget });
      const decisions = Array.from({ length: 6 }, () => decide(status(503), 1, p, NOW, false).retry);
      expect(decisions).to.deep.equal([true, true, true, true, false, false]);
      expect(decide(status(503), 1, p, NOW, false)).to.deep.equal({ retry: false, permanent: false, why: 'the retry budget is spent' });
      for (let i = 0; i < 10; i++) budget.refund();
      expect(decide(status(503), 1, p, NOW, true).retry, 'a timeout costs 10').to.equal(true);
      expect(decide(status(503), 1, p, NOW, true).retry).to.equal(false);
      expect(budget.tokens).to.equal(0);
    });
  });

  describe('decideItems (some items of an answer failed)', () => {
    const policy = (options = {}) => resolveRetry({ attempts: 3, baseMs: 100, maxDelayMs: 1_000, ...options });
    const RETRY = { retry: true };

    it('judges each item: permanent ones stop, the retryable ones go again together after one backoff', () => {
      const d = decideItems([status(400), status(503), new Error('bug'), status(429)], 1, policy(), NOW, () => 0.5);
      expect(d).to.deep.equal({
        items: [{ retry: false, permanent: true, why: 'not retryable' }, RETRY, { retry: false, permanent: true, why: 'not retryable' }, RETRY],
        delayMs: 50,
      });
      expect(decideItems([status(400)], 1, policy(), NOW)).to.deep.equal({ items: [{ retry: false, permanent: true, why: 'not retryable' }], delayMs: 0 });
    });

    it('the attempts limit ends every retryable item, with the same reason', () => {
      const gaveUp = { retry: false, permanent: false, why: 'gave up after 3 attempt(s)' };
      expect(decideItems([status(503), status(400), status(502)], 3, policy(), NOW)).to.deep.equal({
        items: [gaveUp, { retry: false, permanent: true, why: 'not retryable' }, gaveUp], delayMs: 0,
      });
    });

    it('waits the longest Retry-After of the items that go again; an item asking for more than maxRetryAfterMs stops alone', () => {
      const p = policy({ maxRetryAfterMs: 5_000 });
      const d = decideItems([status(429, { retryAfter: '2' }), status(503, { retryAfter: '3' }), status(503, { retryAfter: '3600' }), status(503)], 1, p, NOW, () => 0);
      expect(d).to.deep.equal({
        items: [RETRY, RETRY, { retry: false, permanent: false, why: 'the service asked to wait 3600 s, more than maxRetryAfterMs (5000 ms)' }, RETRY],
        delayMs: 3_000,
      });
    });

    it('one retry of the items costs one retry from the budget; when it is spent, they all stop saying so', () => {
      const budget = new RetryBudget({ capacity: 10, retryCost: 5 });
      const p = policy({ budget });
      expect(decideItems([status(503), status(503), status(503)], 1, p, NOW).items).to.deep.equal([RETRY, RETRY, RETRY]);
      expect(budget.tokens).to.equal(5);
      expect(decideItems([status(400)], 1, p, NOW).delayMs, 'nothing to retry: nothing drawn').to.equal(0);
      expect(budget.tokens).to.equal(5);
      decideItems([status(503)], 1, p, NOW);
      const spent = { retry: false, permanent: false, why: 'the retry budget is spent' };
      expect(decideItems([status(503), status(400)], 1, p, NOW).items).to.deep.equal([spent, { retry: false, permanent: true, why: 'not retryable' }]);
    });

    it('a custom retryOn sees each item error and the attempt; one that throws stops that item', () => {
      const p = policy({ retryOn: (error: unknown) => {
        if ((error as Error).message === 'odd') throw new Error('cannot tell');
        return (error as Error).message === 'flaky';
      } });
      expect(decideItems([new Error('flaky'), new Error('odd'), new Error('other')], 1, p, NOW, () => 0).items).to.deep.equal([
        RETRY, { retry: false, permanent: true, why: 'retryOn threw: cannot tell' }, { retry: false, permanent: true, why: 'not retryable' },
      ]);
    });
  });

  describe('resolveRetry', () => {
    it('defaults: 3 attempts, 100 ms base, 10 s cap, 60 s Retry-After cap, isRetryable, a budget of its own', () => {
      const a = resolveRetry(undefined);
      const b = resolveRetry({});
      expect(a).to.include({ attempts: 3, baseMs: 100, maxDelayMs: 10_000, maxRetryAfterMs: 60_000, retryOn: isRetryable });
      expect(a.budget).to.be.instanceOf(RetryBudget);
      expect(a.budget).to.not.equal(b.budget);
      expect(resolveRetry(false).attempts).to.equal(1);
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [unknown, string][] = [
        [{ attempts: 0 }, 'Expected `retries.attempts` to be an integer from 1 and up, got `0` (number)'],
        [{ attempts: Infinity }, 'Expected `retries.attempts` to be an integer from 1 and up, got `Infinity` (number)'],
        [{ baseMs: -1 }, 'Expected `retries.baseMs` to be an integer from 0 and up, got `-1` (number)'],
        [{ retryOn: 'yes' }, 'Expected `retries.retryOn` to be a function, got `yes` (string)'],
        [{ budget: {} }, 'Expected `retries.budget` to be a RetryBudget, got an object'],
        [true, 'Expected `retries` to be an object, got `true` (boolean)'],
      ];
      for (const [options, message] of cases) expect(thrownBy(() => resolveRetry(options)).message).to.equal(message);
    });
  });
});
