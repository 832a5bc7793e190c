/**
 * The pg-boss engine (PostgreSQL, `SKIP LOCKED`): the default. pg-boss runs on the caller's
 * pool (no connections of its own). A job's id is a UUID derived from its split, and
 * pg-boss inserts with `ON CONFLICT DO NOTHING`, so a restarted planner adds nothing twice.
 * A job that stays active past `expireInSeconds` (its worker died, or hangs) is failed by
 * pg-boss's maintenance and retried up to `retryLimit` times, then moved to the dead-letter
 * queue `<queue>__dead`. pg-boss 10 has no heartbeat of its own (its expiry counts from the
 * job's `started_on`), so a running split moves its job's `started_on` forward every third
 * of `expireInSeconds`: a live split never expires, a dead worker's split comes back within
 * `expireInSeconds` (+ maintenance) of its last beat. The acknowledgement (`complete`) runs
 * inside the split's transaction, so a split's rows, its done-marker and its job's
 * completion commit together.
 */
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { jobUuid, type Delivery, type QueueEngine } from './engine.js';

export interface PgBossEngineOptions {
  /** pg-boss's schema. @default 'pgboss' */
  schema?: string;
  /** Seconds a job may stay active without a heartbeat before it is taken back and retried (a running split beats every third of it). @default 900 */
  expireInSeconds?: number;
  /** Retries after the first attempt; then the job goes to `<queue>__dead`. @default 5 */
  retryLimit?: number;
  /** Seconds between pg-boss's maintenance runs (which expire stalled jobs). @default 60 */
  maintenanceIntervalSeconds?: number;
}

const PG_BOSS_OPTIONS = optionNames<PgBossEngineOptions>('distributed.pgBoss()', { schema: true, expireInSeconds: true, retryLimit: true, maintenanceIntervalSeconds: true });

interface Resolved {
  schema: string;
  expireInSeconds: number;
  retryLimit: number;
  maintenanceIntervalSeconds: number;
}

/** SQLSTATEs of two creators racing: deadlock, unique violation, duplicate table. */
const RACES = new Set(['40P01', '23505', '42P07']);

const db = (target: pg.Pool | pg.ClientBase): PgBoss.Db => ({ executeSql: (text, values) => target.query(text, values) });

class PgBossEngine implements QueueEngine {
  readonly kind = 'pg-boss';
  private boss: Promise<PgBoss> | null = null;
  private readonly opened = new Map<string, Promise<void>>();
  /** The last error pg-boss reported on its own (maintenance runs in the background). */
  lastError: Error | null = null;

  constructor(private readonly pool: pg.Pool, private readonly o: Resolved) {}

  private start(): Promise<PgBoss> {
    this.boss ??= (async () => {
      const { default: Boss } = await import('pg-boss');
      const boss = new Boss({
        db: db(this.pool),
        schema: this.o.schema,
        schedule: false,
        supervise: true,
        maintenanceIntervalSeconds: this.o.maintenanceIntervalSeconds,
      });
      boss.on('error', (error) => (this.lastError = error));
      await boss.start();
      return boss;
    })();
    return this.boss;
  }

  open(queue: string): Promise<void> {
    let opening = this.opened.get(queue);
    if (!opening) {
      opening = this.createQueues(queue);
      this.opened.set(queue, opening);
      opening.catch(() => this.opened.delete(queue));
    }
    return opening;
  }

  private async createQueues(queue: string): Promise<void> {
    const boss = await this.start();
    const dead = `${queue}__dead`;
    const queues: [string, PgBoss.Queue?][] = [
      [dead],
      [`${queue}__plan`],
      [queue, { name: queue, retryLimit: this.o.retryLimit, retryDelay: 0, expireInSeconds: this.o.expireInSeconds, deadLetter: dead }],
    ];
    for (const [name, options] of queues) {
      // Workers starting together race to create the queue; pg-boss's create can then
      // deadlock or collide in one of them, which finds the queue made by the other.
      for (let attempt = 1; !(await boss.getQueue(name)); attempt++) {
        try {
          await boss.createQueue(name, options);
        } catch (error) {
          if (attempt >= 5 || !RACES.has((error as { code?: string }).code ?? '')) throw error;
        }
      }
    }
  }

  async add(queue: string, key: string, data: object): Promise<boolean> {
    const boss = await this.start();
    return (await boss.send(queue, data, { id: jobUuid(queue, key) })) !== null;
  }

  async waiting(queue: string): Promise<number> {
    return (await this.start()).getQueueSize(queue);
  }

  async unfinished(queue: string): Promise<number> {
    return (await this.start()).getQueueSize(queue, { before: 'completed' });
  }

  async setPlanned(queue: string, splits: number): Promise<void> {
    const boss = await this.start();
    await boss.send(`${queue}__plan`, { splits }, { id: jobUuid(queue, 'planned') });
  }

  async planned(queue: string): Promise<number | null> {
    const job = await (await this.start()).getJobById<{ splits: number }>(`${queue}__plan`, jobUuid(queue, 'planned'));
    return job ? job.data.splits : null;
  }

  async take(queue: string): Promise<Delivery | null> {
    const boss = await this.start();
    const [job] = await boss.fetch<object>(queue, { batchSize: 1, includeMetadata: true });
    if (!job) return null;
    return {
      id: job.id,
      data: job.data,
      attempt: job.retryCount + 1,
      inTransaction: true,
      heartbeatMs: Math.floor((this.o.expireInSeconds * 1000) / 3),
      // Only this delivery's job row (its retry count): a zombie's beat must not keep a
      // redelivery of its split alive once that has a worker of its own. The schema is
      // unquoted, as pg-boss writes it (a plain name, checked in pgBoss()).
      heartbeat: async () => {
        await this.pool.query(`UPDATE ${this.o.schema}.job SET started_on = now() WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`, [queue, job.id, job.retryCount]);
      },
      complete: async (result, client) => {
        await boss.complete(queue, job.id, result, client ? { db: db(client) } : {});
      },
      fail: async (message) => {
        await boss.fail(queue, job.id, { message });
      },
    };
  }

  async close(): Promise<void> {
    const boss = this.boss;
    this.boss = null;
    if (boss) await (await boss.catch(() => null))?.stop({ graceful: false, close: false, wait: true });
  }
}

/**
 * The pg-boss engine for `distributed.job`: jobs in PostgreSQL, through your pool.
 * Call `close()` when done (it stops pg-boss's timers; the pool stays yours).
 *
 * @param pool A pg.Pool (pg-boss's queries use it; each worker passes its own).
 * @example
 * const engine = distributed.pgBoss(pool, { expireInSeconds: 300 });
 * const job = distributed.job({ engine, name: 'load', source, pipeline });
 * await job.work({ until: 'drained' });
 * await engine.close();
 */
export function pgBoss(pool: pg.Pool, options: PgBossEngineOptions = {}): QueueEngine & { lastError: Error | null } {
  return named('distributed.pgBoss()', () => {
    if (!pool || typeof pool.connect !== 'function' || !('totalCount' in pool)) fail('pool', 'a pg.Pool', pool);
    const o = checkOptions('options', options, PG_BOSS_OPTIONS) as PgBossEngineOptions;
    const schema = o.schema ?? 'pgboss';
    if (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]*$/i.test(schema)) fail('schema', 'a plain schema name (letters, digits, _)', schema);
    return new PgBossEngine(pool, {
      schema,
      expireInSeconds: checkInteger('expireInSeconds', o.expireInSeconds ?? 900, 1),
      retryLimit: checkInteger('retryLimit', o.retryLimit ?? 5, 0),
      maintenanceIntervalSeconds: checkInteger('maintenanceIntervalSeconds', o.maintenanceIntervalSeconds ?? 60, 1),
    });
  });
}
