import { expect } from 'chai';
import { distributed } from '../../lib/index.js';

describe('distributed.bullmq()', () => {
  it('invalid options throw naming the option', () => {
    expect(() => distributed.bullmq('http://127.0.0.1')).to.throw(TypeError, 'distributed.bullmq(): expected `connection` to be a redis:// or rediss:// URL, got `http://…` (string)');
    expect(() => distributed.bullmq('not a url')).to.throw(TypeError, 'distributed.bullmq(): expected `connection` to be a redis:// URL or ioredis options, got `a string that is not a URL` (string)');
    expect(() => distributed.bullmq('redis://127.0.0.1', { prefix: '' })).to.throw(TypeError, 'distributed.bullmq(): expected `prefix` to be a non-empty key prefix, got `` (string)');
    expect(() => distributed.bullmq('redis://127.0.0.1', { lockDuration: 10 })).to.throw(TypeError, 'distributed.bullmq(): expected `lockDuration` to be an integer from 100 and up, got `10` (number)');
    expect(() => distributed.bullmq('redis://127.0.0.1', { retryLimit: -1 })).to.throw(TypeError, 'distributed.bullmq(): expected `retryLimit` to be an integer from 0 and up, got `-1` (number)');
  });

  it('a connection URL never shows its password in an error', () => {
    const error = (() => {
      try {
        distributed.bullmq('redis://user:hunter2@[::1');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).to.equal('distributed.bullmq(): expected `connection` to be a redis:// URL or ioredis options, got `a string that is not a URL` (string)');
  });
});
