/** itemFailed(): the marker a service function puts in a failed item's place (TESTPLAN D25). */
import { expect } from 'chai';
import { ServiceError, itemFailed } from '../../lib/index.js';
import { ItemFailure } from '../../lib/service/item-failed.js';
import { expectTypeErrors } from '../helpers/streams.js';

describe('itemFailed()', () => {
  describe('behaviour', () => {
    it('an Error without options is kept as it is (retryOn judges it as it judges a failed call)', () => {
      const error = Object.assign(new Error('locked'), { retryable: true });
      const marker = itemFailed(error);
      expect(ItemFailure.is(marker)).to.equal(true);
      expect(marker.error).to.equal(error);
    });

    it("a message becomes a ServiceError of kind 'item', not retryable unless told", () => {
      const { error } = itemFailed('plate 7 is not a plate');
      expect(error).to.be.instanceOf(ServiceError).and.include({ kind: 'item', retryable: false, message: 'plate 7 is not a plate' });
      expect(itemFailed('busy', { retryable: true }).error).to.include({ retryable: true });
    });

    it('status decides retryable as for a call (429, 503 yes; 400, 409 no); an explicit retryable wins; retryAfter is kept as the header would be', () => {
      expect(itemFailed('slow down', { status: 429, retryAfter: 2 }).error).to.include({ status: 429, retryable: true, retryAfter: '2' });
      expect(itemFailed('unavailable', { status: 503 }).error).to.include({ retryable: true });
      expect(itemFailed('conflict', { status: 409 }).error).to.include({ retryable: false });
      expect(itemFailed('conflict', { status: 409, retryable: true }).error).to.include({ retryable: true });
      const cause = new Error('deadlock');
      const wrapped = itemFailed(cause, { status: 503 }).error as ServiceError;
      expect(wrapped).to.include({ message: 'deadlock', status: 503 });
      expect(wrapped.cause).to.equal(cause);
    });

    it("a service's error object: the message from message / error / reason / detail, else its JSON (shortened); the object as cause", () => {
      const reason = { code: 'E_QUOTA', message: 'quota exceeded', retryable: true };
      const error = itemFailed(reason).error as ServiceError;
      expect(error).to.include({ message: 'quota exceeded', retryable: true });
      expect(error.cause).to.equal(reason);
      expect((itemFailed({ error: 'no such plate' }).error as Error).message).to.equal('no such plate');
      expect((itemFailed({ code: 42 }).error as Error).message).to.equal('{"code":42}');
      expect((itemFailed({ blob: 'x'.repeat(500) }).error as Error).message).to.have.length(200);
      expect((itemFailed(404).error as Error).message).to.equal('404');
    });

    it('is told apart from a result that happens to have an `error` field, and recognised when made by another copy of sluice (ESM and CommonJS builds)', () => {
      expect(ItemFailure.is({ error: 'not a marker' })).to.equal(false);
      expect(ItemFailure.is(null)).to.equal(false);
      const foreign = Object.defineProperty({ error: 'x' }, Symbol.for('sluice.ItemFailure'), { value: true });
      expect(ItemFailure.is(foreign)).to.equal(true);
    });
  });

  describe('options', () => {
    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => itemFailed('x', 3 as never), 'itemFailed(): expected `options` to be an object, got `3` (number)'],
        [() => itemFailed('x', { retryable: 'yes' as never }), 'itemFailed(): expected `retryable` to be a boolean, got `yes` (string)'],
        [() => itemFailed('x', { status: 99 }), 'itemFailed(): expected `status` to be an integer from 100 and up, got `99` (number)'],
        [() => itemFailed('x', { retryAfter: 1.5 }), 'itemFailed(): expected `retryAfter` to be an integer from 0 and up, got `1.5` (number)'],
        [() => itemFailed('x', { retryAfter: {} as never }), 'itemFailed(): expected `retryAfter` to be whole seconds or an HTTP date, got an object'],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the options object', () => {
      const options = Object.freeze({ status: 503, retryAfter: 1 });
      itemFailed('busy', options);
      expect(options).to.deep.equal({ status: 503, retryAfter: 1 });
    });
  });
});
