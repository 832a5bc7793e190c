import { expect } from 'chai';
import { createRequire } from 'node:module';
import { csv, distributed } from '../../lib/index.js';

const hasIoredis = (() => {
  try {
    createRequire(import.meta.url).resolve('ioredis');
    return true;
  } catch {
    return false;
  }
})();

describe('distributed.bullmq()', () => {
  it('invalid options throw naming the option', () => {
    expect(() => distributed.bullmq('http://127.0.0.1')).to.throw(TypeError, 'Expected `connection` to be a redis:// or rediss:// URL, got `http://…` (string)');
    expect(() => distributed.bullmq('not a url')).to.throw(TypeError, 'Expected `connection` to be a redis:// URL or ioredis options');
    expect(() => distributed.bullmq('redis://127.0.0.1', { prefix: '' })).to.throw(TypeError, 'Expected `prefix` to be a non-empty key prefix');
    expect(() => distributed.bullmq('redis://127.0.0.1', { lockDuration: 10 })).to.throw(TypeError, 'Expected `lockDuration` to be an integer from 100 and up, got `10` (number)');
    expect(() => distributed.bullmq('redis://127.0.0.1', { retryLimit: -1 })).to.throw(TypeError, 'Expected `retryLimit` to be an integer from 0 and up');
  });

  it('a connection URL never shows its password in an error', () => {
    const error = (() => {
      try {
        distributed.bullmq('redis://user:hunter2@[::1');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).to.equal('Expected `connection` to be a redis:// URL or ioredis options, got `a string that is not a URL` (string)');
  });

  if (!hasIoredis) {
    it('without the ioredis package, using it fails with a clear error and leaves nothing open', async () => {
      const engine = distributed.bullmq('redis://127.0.0.1:6379', { prefix: 'sluice-test-missing' });
      const job = distributed.job({ engine, name: 'q', source: csv.split('x.csv'), pipeline: (rows) => [rows] });
      const error = await job.plan({ splits: 1 }).then(() => null, (e: unknown) => e as Error);
      expect(error?.message).to.equal('distributed.bullmq: BullMQ needs the ioredis package for connection options (npm install ioredis), or pass a connected Redis client instance');
      await engine.close();
    });
  }
});
