/**
 * The BullMQ engine (Redis). A job's id is derived from its split (`jobId`), and BullMQ
 * does not add a job whose id exists, so a restarted planner adds nothing twice. Workers
 * take jobs by hand (`getNextJob`) and renew their lock while a split runs; a worker that
 * dies stops renewing, and BullMQ's stalled-job check moves its job back to wait after
 * `lockDuration` (up to `maxStalledCount` times, then the job fails). Failed jobs are
 * retried up to `retryLimit` times and then stay in the queue's failed set (BullMQ has no
 * dead-letter queue). BullMQ cannot join a PostgreSQL transaction: a job is acknowledged
 * right after its split commits, and should the worker die in between, the redelivery finds
 * the split's done-marker and is acknowledged without writing.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions, Job, Queue, RedisClient, Worker } from 'bullmq';
import { checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { jobUuid, type Delivery, type QueueEngine } from './engine.js';

export interface BullmqEngineOptions {
  /** Key prefix of every queue key (use one of your own per application). @default 'sluice' */
  prefix?: string;
  /** How long a worker's lock on a job lasts without renewal, in ms (renewed at half of it). @default 30000 */
  lockDuration?: number;
  /** How often stalled jobs are looked for, in ms. @default lockDuration */
  stalledInterval?: number;
  /** Retries after the first attempt (failures and stalls alike). @default 5 */
  retryLimit?: number;
}

const BULLMQ_OPTIONS = optionNames<BullmqEngineOptions>('distributed.bullmq()', { prefix: true, lockDuration: true, stalledInterval: true, retryLimit: true });

/** ioredis options from a `redis://user:password@host:port/db` URL. */
function fromUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail('connection', 'a redis:// URL or ioredis options', 'a string that is not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') fail('connection', 'a redis:// or rediss:// URL', `${u.protocol}//…`);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

const IOREDIS = 'ioredis';

async function importIoredis(): Promise<void> {
  try {
    await import(IOREDIS);
  } catch (error) {
    throw new Error('distributed.bullmq: BullMQ needs the ioredis package for connection options (npm install ioredis), or pass a connected Redis client instance', { cause: error });
  }
}

interface Parts {
  queue: Queue;
  worker: Worker;
}

class BullmqEngine implements QueueEngine {
  readonly kind = 'bullmq';
  private readonly parts = new Map<string, Promise<Parts>>();
  private readonly token = randomUUID();

  constructor(private readonly connection: ConnectionOptions, private readonly o: Required<BullmqEngineOptions>) {}

  private get(name: string): Promise<Parts> {
    let parts = this.parts.get(name);
    if (!parts) {
      parts = (async () => {
        const { Queue, Worker } = await import('bullmq');
        // A client instance (ioredis, node-redis) is used as given; options need ioredis,
        // which BullMQ 6 no longer brings along (a missing one would surface only as an
        // 'error' event, and then break BullMQ's own close()).
        const instance = typeof (this.connection as { duplicate?: unknown }).duplicate === 'function';
        if (!instance) await importIoredis();
        const connection = instance ? this.connection : ({ ...this.connection, maxRetriesPerRequest: null } as ConnectionOptions);
        const common = { connection, prefix: this.o.prefix };
        const queue = new Queue(name, common);
        const worker = new Worker(name, null, {
          ...common,
          autorun: false,
          lockDuration: this.o.lockDuration,
          stalledInterval: this.o.stalledInterval,
          maxStalledCount: this.o.retryLimit,
        });
        queue.on('error', () => {}); // connection errors reach the caller through the next command
        worker.on('error', () => {});
        await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
        await worker.startStalledCheckTimer();
        return { queue, worker };
      })();
      this.parts.set(name, parts);
    }
    return parts;
  }

  async open(queue: string): Promise<void> {
    await this.get(queue);
  }

  async add(name: string, key: string, data: object): Promise<boolean> {
    const { queue } = await this.get(name);
    const jobId = jobUuid(name, key);
    if (await queue.getJob(jobId)) return false;
    // Should two planners race past the look, BullMQ still keeps one job for the id (only
    // the `added` counts would both count it).
    await queue.add('split', data, { jobId, attempts: this.o.retryLimit + 1, removeOnComplete: false, removeOnFail: false });
    return true;
  }

  async waiting(name: string): Promise<number> {
    const { queue } = await this.get(name);
    return queue.getJobCountByTypes('waiting', 'prioritized');
  }

  async unfinished(name: string): Promise<number> {
    const { queue } = await this.get(name);
    return queue.getJobCountByTypes('waiting', 'prioritized', 'active', 'delayed', 'waiting-children');
  }

  private async plannedKey(name: string): Promise<{ client: RedisClient; key: string }> {
    const { queue } = await this.get(name);
    return { client: await queue.getBackend().client, key: `${this.o.prefix}:${name}:sluice-planned` };
  }

  async setPlanned(name: string, splits: number): Promise<void> {
    const { client, key } = await this.plannedKey(name);
    await client.set(key, String(splits));
  }

  async planned(name: string): Promise<number | null> {
    const { client, key } = await this.plannedKey(name);
    const value = await client.get(key);
    return value === null ? null : Number(value);
  }

  async take(name: string): Promise<Delivery | null> {
    const { worker } = await this.get(name);
    const job = (await worker.getNextJob(this.token, { block: false })) as Job | undefined;
    if (!job) return null;
    const token = this.token;
    return {
      id: String(job.id),
      data: job.data,
      attempt: Math.max(1, job.attemptsStarted),
      inTransaction: false,
      heartbeatMs: Math.max(1, Math.floor(this.o.lockDuration / 2)),
      heartbeat: async () => {
        await job.extendLock(token, this.o.lockDuration);
      },
      complete: async (result) => {
        await job.moveToCompleted(result, token, false);
      },
      fail: async (message) => {
        await job.moveToFailed(new Error(message), token, false);
      },
    };
  }

  async close(): Promise<void> {
    const all = [...this.parts.values()];
    this.parts.clear();
    for (const parts of all) {
      const p = await parts.catch(() => null);
      if (!p) continue;
      await p.worker.close();
      await p.queue.close();
    }
  }

  /** Removes every key of the queue (tests, and starting a job over). */
  async obliterate(name: string): Promise<void> {
    const { queue } = await this.get(name);
    await queue.obliterate({ force: true });
    const { client, key } = await this.plannedKey(name);
    await client.del(key);
  }
}

/**
 * The BullMQ engine for `distributed.job`: jobs in Redis. Call `close()` when done.
 *
 * @param connection A `redis://` URL (e.g. `process.env.REDIS_URL`) or ioredis options.
 * @example
 * const engine = distributed.bullmq(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix: 'myapp' });
 * const job = distributed.job({ engine, name: 'load', source, pipeline });
 * await job.work({ until: 'drained' });
 * await engine.close();
 */
export function bullmq(connection: string | ConnectionOptions, options: BullmqEngineOptions = {}): QueueEngine & { obliterate(name: string): Promise<void> } {
  return named('distributed.bullmq()', () => {
    const resolved = typeof connection === 'string' ? fromUrl(connection) : connection;
    if (!resolved || typeof resolved !== 'object') fail('connection', 'a redis:// URL or ioredis options', connection);
    const o = checkOptions('options', options, BULLMQ_OPTIONS) as BullmqEngineOptions;
    const prefix = o.prefix ?? 'sluice';
    if (typeof prefix !== 'string' || prefix === '' || prefix.includes('{')) fail('prefix', 'a non-empty key prefix', prefix);
    const lockDuration = checkInteger('lockDuration', o.lockDuration ?? 30_000, 100);
    return new BullmqEngine(resolved, {
      prefix,
      lockDuration,
      stalledInterval: checkInteger('stalledInterval', o.stalledInterval ?? lockDuration, 100),
      retryLimit: checkInteger('retryLimit', o.retryLimit ?? 5, 0),
    });
  });
}
