import { expect } from 'chai';
import type pg from 'pg';
import { RateLimiter, distributed } from '../../lib/index.js';
import { usePostgres } from '../helpers/postgres.js';

describe('distributed.sharedRate()', () => {
  const db = usePostgres();
  let pools: pg.Pool[];

  before(() => {
    // One pool per simulated worker process.
    pools = [db.pool({ max: 2 }), db.pool({ max: 2 }), db.pool({ max: 2 })];
  });

  it('no window of `per` ms holds more than `calls` grants over all workers, and the limit is reached', async () => {
    const CALLS = 5;
    const PER = 200;
    const limiters = pools.map((pool) => distributed.sharedRate(pool, { name: 'registry', calls: CALLS, per: PER, table: `${db.schema}.slots` }));
    const grants: number[] = [];
    const started = Date.now();
    await Promise.all(
      limiters.map(async (limiter) => {
        await Promise.all(Array.from({ length: 10 }, async () => {
          const permit = await limiter.acquire();
          permit.start();
          grants.push(Date.now());
        }));
      }),
    );
    const elapsed = Date.now() - started;
    grants.sort((a, b) => a - b);
    // Leeway: grants are made on the server's clock and stamped here when the answer is seen,
    // which on a loaded machine can be tens of ms later for one grant and not for the next
    // (a clean-clone run saw 174 ms for a 200 ms window with 25 ms allowed): 50 ms for the
    // windows. A limiter that is not shared lets 15 grants through in under 175 ms (the control).
    const LEEWAY = 25;
    const STAMP_LEEWAY = 50;
    for (let i = 0; i + CALLS < grants.length; i++) expect(grants[i + CALLS] - grants[i], `grants ${i}..${i + CALLS}`).to.be.at.least(PER - STAMP_LEEWAY);
    expect(grants).to.have.length(30);
    // 30 calls at 5 per 200 ms: five full windows must pass, and not many more.
    expect(elapsed).to.be.within(5 * PER - LEEWAY, 5 * PER + 1500);
  });

  it('control: a limiter per worker (not shared) lets three times the limit through in one window', async () => {
    const limiters = pools.map(() => new RateLimiter({ calls: 5, per: 200 }));
    const grants: number[] = [];
    await Promise.all(limiters.map(async (limiter) => {
      for (let i = 0; i < 5; i++) (await limiter.acquire()).start(), grants.push(Date.now());
    }));
    grants.sort((a, b) => a - b);
    expect(grants[14] - grants[0]).to.be.below(175); // 15 grants inside one window
  });

  it('an aborted wait rejects and takes no slot', async () => {
    const limiter = distributed.sharedRate(pools[0], { name: 'tiny', calls: 1, per: 60_000, table: `${db.schema}.slots` });
    (await limiter.acquire()).start();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal).then(() => null, (e: unknown) => e as Error);
    setImmediate(() => controller.abort());
    expect((await waiting)?.name).to.equal('AbortError');
  });

  it('invalid options throw naming the option', () => {
    expect(() => distributed.sharedRate({} as never, { name: 'x', calls: 1, per: 1 })).to.throw(TypeError, 'distributed.sharedRate(): expected `pool` to be a pg.Pool, got an object');
    expect(() => distributed.sharedRate(pools[0], { name: '', calls: 1, per: 1 })).to.throw(TypeError, 'distributed.sharedRate(): expected `name` to be a non-empty name, got `` (string)');
    expect(() => distributed.sharedRate(pools[0], { name: 'x', calls: 0, per: 1 })).to.throw(TypeError, 'distributed.sharedRate(): expected `calls` to be an integer from 1 and up, got `0` (number)');
    expect(() => distributed.sharedRate(pools[0], { name: 'x', calls: 1, per: 0.5 })).to.throw(TypeError, 'distributed.sharedRate(): expected `per` to be an integer from 1 and up, got `0.5` (number)');
  });
});
