import { expect } from 'chai';
import type pg from 'pg';
import { RateLimiter, distributed } from '../../lib/index.js';
import { usePostgres } from '../helpers/postgres.js';
import { logGrants } from './helpers.js';

describe('distributed.sharedRate()', () => {
  const db = usePostgres();
  let pools: pg.Pool[];

  before(() => {
    // One pool per simulated worker process.
    pools = [db.pool({ max: 2 }), db.pool({ max: 2 }), db.pool({ max: 2 })];
  });

  it('no window of `per` ms holds more than `calls` grants over all workers (by the server\'s clock), and the limit is reached', async () => {
    const CALLS = 5;
    const PER = 200;
    const grantsOf = await logGrants(db, pools[0], `${db.schema}.slots`);
    const limiters = pools.map((pool) => distributed.sharedRate(pool, { name: 'registry', calls: CALLS, per: PER, table: `${db.schema}.slots` }));
    const started = Date.now();
    await Promise.all(limiters.map((limiter) => Promise.all(Array.from({ length: 10 }, async () => (await limiter.acquire()).start()))));
    const elapsed = Date.now() - started;
    // Exact: the grants' own times, as PostgreSQL stamped them (no leeway for when a client saw them).
    const { grants, closestMs, fullestMs, spanMs } = await grantsOf('registry', CALLS);
    expect(grants).to.equal(30);
    expect(closestMs).to.be.at.least(PER);
    expect(fullestMs).to.be.below(PER); // some window held all 5: the limit is reached
    // 30 calls at 5 per 200 ms: five full windows must pass between the first and the last,
    // and not many more (a loaded machine: 1.5 s allowed past them).
    expect(spanMs).to.be.at.least(5 * PER);
    expect(elapsed).to.be.below(5 * PER + 1500);
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
