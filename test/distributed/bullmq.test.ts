import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type pg from 'pg';
import { csv, distributed, postgres } from '../../lib/index.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { usePostgres } from '../helpers/postgres.js';
import { REDIS_URL, bullmqUnavailable, delegate, sampleCsv } from './helpers.js';

const bullmqMissing = await bullmqUnavailable();
if (bullmqMissing) console.log(`  BullMQ acknowledgement suite NOT RUN: ${bullmqMissing}`);

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

if (!bullmqMissing) describe('distributed.job() on BullMQ: the acknowledgement comes after the commit', () => {
  const db = usePostgres();
  let tmp: TempDir;
  let pool: pg.Pool;
  before(async () => {
    tmp = await tempDir('sluice-bullmq-test-');
    pool = db.pool({ max: 4 });
  });
  after(() => tmp.remove());

  it('a job is acknowledged once its split committed (BullMQ cannot join the transaction); an acknowledgement lost then is redelivered and skipped', async function () {
    this.timeout(20_000);
    const file = await sampleCsv(tmp.file('in.csv'), 2000);
    await db.query(`CREATE TABLE ${db.schema}.loaded (id int, plate text, state text, fine int)`);
    const prefix = `sluice-test-ack-${process.pid}-${randomBytes(3).toString('hex')}`;
    const engine = distributed.bullmq(REDIS_URL, { prefix, lockDuration: 500, stalledInterval: 200 });
    const committedAtAck: number[] = [];
    let lost = 0;
    // Each acknowledgement first looks, from another connection, whether its split's
    // done-marker is visible (committed); the first one is then lost, as under a lock expired.
    const watched = delegate(engine, {
      take: async (queue) => {
        const d = await engine.take(queue);
        return d && {
          ...d,
          complete: async (result, client) => {
            const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.schema}.done WHERE job = 'ack' AND split = $1`, [(d.data as { id: string }).id]);
            committedAtAck.push(rows[0].n);
            if (lost++ === 0) throw new Error('acknowledgement lost');
            await d.complete(result, client);
          },
        };
      },
    });
    try {
      const job = distributed.job({
        engine: watched, name: 'ack', source: csv.split<string[]>(file), exactlyOnce: { pool, markers: `${db.schema}.done` },
        pipeline: (rows, { client }) => [rows, postgres.write(client!, { table: 'loaded' })],
      });
      await job.plan({ splits: 4 });
      const summary = await job.work({ pollMs: 20 });
      expect(committedAtAck).to.deep.equal([1, 1, 1, 1, 1]); // four splits and the redelivered one, each committed before its ack
      expect(summary.failed).to.equal(0);
      expect(summary.splits.map((s) => `${s.attempt} ${s.skipped}`).sort()).to.deep.equal(['1 false', '1 false', '1 false', '1 false', '2 true']);
      const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.loaded`);
      expect(rows[0]).to.deep.equal({ n: '2000', d: '2000' });
      await engine.obliterate('ack');
    } finally {
      await engine.close();
    }
  });
});
