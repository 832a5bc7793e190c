/**
 * A rate limit shared by every worker, kept in PostgreSQL (for pg-boss deployments; BullMQ
 * users can use its global limiter). The limit `calls` per `per` ms is `calls` slot rows;
 * a call takes the slot used longest ago, and only if that use is at least `per` ms old
 * (server clock), under `FOR UPDATE SKIP LOCKED`. Invariant: each slot is used at most once
 * in any `per` ms, so no window of `per` ms holds more than `calls` grants, across all
 * processes and machines. It is also a `RateLimiter`, so `callService({ rate })` takes it.
 */
import type pg from 'pg';
import { RateLimiter } from '../service/index.js';
import { checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { sleep } from './sleep.js';

type Permit = Awaited<ReturnType<RateLimiter['acquire']>>;

export interface SharedRateOptions {
  /** The limit's name: every worker using the same name shares it. */
  name: string;
  /** At most this many calls start in any window of `per` ms, over all workers. */
  calls: number;
  /** The window, in milliseconds. */
  per: number;
  /** The slot table, created if absent. @default 'sluice_rate_slots' */
  table?: string;
}

const SHARED_RATE_OPTIONS = optionNames<SharedRateOptions>('distributed.sharedRate()', { name: true, calls: true, per: true, table: true });

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

class SharedRateLimiter extends RateLimiter {
  private ready: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool, private readonly name: string, private readonly table: string, calls: number, private readonly per: number) {
    super({ calls, per });
  }

  private setUp(): Promise<void> {
    this.ready ??= (async () => {
      // Workers starting together race on CREATE … IF NOT EXISTS, which is not atomic: the
      // loser sees the table (42P07), its row type (42710) or the catalog key (23505) exist.
      await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (name text NOT NULL, slot int NOT NULL, used timestamptz NOT NULL, PRIMARY KEY (name, slot))`).catch((error: { code?: string }) => {
        if (!['23505', '42P07', '42710'].includes(error.code ?? '')) throw error;
      });
      await this.pool.query(`INSERT INTO ${this.table} SELECT $1, g, 'epoch' FROM generate_series(1, $2::int) g ON CONFLICT DO NOTHING`, [this.name, this.limit.calls]);
    })();
    this.ready.catch(() => (this.ready = null));
    return this.ready;
  }

  /** Takes a slot, or says how many ms until the oldest one frees. */
  private async take(): Promise<number> {
    const { rows } = await this.pool.query<{ wait: number | null }>(
      `WITH free AS (
         SELECT slot FROM ${this.table} WHERE name = $1 AND slot <= $3 AND used <= clock_timestamp() - $2 * interval '1 millisecond'
         ORDER BY used LIMIT 1 FOR UPDATE SKIP LOCKED),
       taken AS (UPDATE ${this.table} t SET used = clock_timestamp() FROM free WHERE t.name = $1 AND t.slot = free.slot RETURNING 1)
       SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 0
         ELSE (SELECT GREATEST(1, ceil(extract(epoch FROM min(used) + $2 * interval '1 millisecond' - clock_timestamp()) * 1000))
               FROM ${this.table} WHERE name = $1 AND slot <= $3) END::float8 AS wait`,
      [this.name, this.per, this.limit.calls],
    );
    return rows[0].wait ?? 1;
  }

  /** This process's own share first (no query while it is over the limit anyway), then a shared slot. */
  override async acquire(signal?: AbortSignal): Promise<Permit> {
    const local = await super.acquire(signal);
    await this.setUp();
    for (;;) {
      const wait = await this.take();
      if (wait === 0) return { grantedAt: local.grantedAt, start: () => {} };
      await sleep(wait, signal);
    }
  }
}

/**
 * A rate limit shared by all workers through PostgreSQL: at most `calls` calls start in any
 * `per` ms over every process using the same `name`. Pass it as `callService`'s `rate`.
 *
 * @param pool Each worker's own pool.
 * @example
 * const rate = distributed.sharedRate(pool, { name: 'registry', calls: 10, per: 1000 });
 * callService(lookup, { rate, idempotencyKey: (rows, batch) => `${split.id}:${batch}` })
 */
export function sharedRate(pool: pg.Pool, options: SharedRateOptions): RateLimiter {
  return named('distributed.sharedRate()', () => {
    if (!pool || typeof pool.connect !== 'function' || !('totalCount' in pool)) fail('pool', 'a pg.Pool', pool);
    const o = checkOptions('options', options, SHARED_RATE_OPTIONS) as unknown as SharedRateOptions;
    if (typeof o.name !== 'string' || o.name === '') fail('name', 'a non-empty name', o.name);
    const calls = checkInteger('calls', o.calls, 1);
    const per = checkInteger('per', o.per, 1);
    const table = o.table ?? 'sluice_rate_slots';
    if (typeof table !== 'string' || table === '' || table.split('.').length > 2) fail('table', "a table name or 'schema.name'", table);
    return new SharedRateLimiter(pool, o.name, table.split('.').map(quote).join('.'), calls, per);
  });
}
