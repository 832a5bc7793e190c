import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import {
  RateLimiter, RetryBudget, addColumn, agg, batch, callService, csv, distinct, distributed, filter, flatten, groupBy, hashJoin, itemFailed, lookup, map,
  mergeJoin, pipe, postJson, postgres, rename, replace, run, select, set, skip, sort, tap, take, topN,
} from '../../lib/index.js';
import { nearest } from '../../lib/core/validate.js';
import { expectTypeErrors } from '../helpers/streams.js';

/** Issue 12 §6: an unknown option is a TypeError naming the factory, the option and the nearest valid name. */
describe('unknown options', () => {
  const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }); // never connects
  after(() => pool.end());
  const typo = (options: Record<string, unknown>): never => options as never;
  /** Enough of a job for its checks: nothing here is ever opened or run. */
  const job = { engine: { take() {}, open: async () => {} }, name: 'q', source: csv.split('x.csv'), pipeline: (rows: unknown) => [rows] };

  it('every public factory refuses an unknown option, naming itself, the option and the nearest name', () => {
    expectTypeErrors([
      [() => csv.read('x.csv', typo({ row: 'objects' })), "csv.read(): unknown option 'row' (did you mean 'rows'?)"],
      [() => csv.read('x.csv', typo({ delimeter: ';' })), "csv.read(): unknown option 'delimeter' (did you mean 'delimiter'?)"],
      [() => csv.read('x.csv', typo({ chunksize: 10 })), "csv.read(): unknown option 'chunksize' (did you mean 'chunkSize'?)"],
      [() => csv.parse(typo({ headers: true })), "csv.parse(): unknown option 'headers' (did you mean 'header'?)"],
      [() => csv.format(typo({ header: true })), "csv.format(): unknown option 'header' (did you mean 'headers'?)"],
      [() => csv.write('x.csv', typo({ ned: false })), "csv.write(): unknown option 'ned' (did you mean 'end'?)"],
      [() => map((r) => r, typo({ concurency: 4 })), "map(): unknown option 'concurency' (did you mean 'concurrency'?)"],
      [() => filter(() => true, typo({ onerror: 'reject' })), "filter(): unknown option 'onerror' (did you mean 'onError'?)"],
      [() => tap(() => {}, typo({ highWaterMak: 2 })), "tap(): unknown option 'highWaterMak' (did you mean 'highWaterMark'?)"],
      [() => select([0], typo({ concurrency: 2 })), "select(): unknown option 'concurrency' (known: 'onError', 'highWaterMark')"],
      [() => set('a', 1, typo({ onEror: 'fail' })), "set(): unknown option 'onEror' (did you mean 'onError'?)"],
      [() => replace('a', { x: 'y' }, typo({ onErrors: 'fail' })), "replace(): unknown option 'onErrors' (did you mean 'onError'?)"],
      [() => rename({ a: 'b' }, typo({ hwm: 2 })), "rename(): unknown option 'hwm' (known: 'onError', 'highWaterMark')"],
      [() => addColumn('b', () => 1, typo({ onError: 'fail', x: 1 })), "addColumn(): unknown option 'x' (known: 'onError', 'highWaterMark', 'concurrency', 'ordered')"],
      [() => take(1, typo({ highwatermark: 2 })), "take(): unknown option 'highwatermark' (did you mean 'highWaterMark'?)"],
      [() => skip(1, typo({ highWaterMarks: 2 })), "skip(): unknown option 'highWaterMarks' (did you mean 'highWaterMark'?)"],
      [() => flatten(typo({ depth: 2 })), "flatten(): unknown option 'depth' (known: 'highWaterMark')"],
      [() => batch(10, typo({ maxWait: 5 })), "batch(): unknown option 'maxWait' (did you mean 'maxWaitMs'?)"],
      [() => sort('a', typo({ memmory: '1MB' })), "sort(): unknown option 'memmory' (did you mean 'memory'?)"],
      [() => topN(3, 'a', typo({ comparator: () => 0 })), "topN(): unknown option 'comparator' (did you mean 'compare'?)"],
      [() => distinct('a', typo({ highWaterMark: 2, key: 'a' })), "distinct(): unknown option 'key' (known: 'signal', 'highWaterMark')"],
      [() => groupBy('a', { n: agg.count() }, typo({ sort: true })), "groupBy(): unknown option 'sort' (did you mean 'sorted'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ batchsize: 5 })), "callService(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ retries: { attempt: 2 } })), "callService() retries: unknown option 'attempt' (did you mean 'attempts'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ rate: { calls: 1, per: 1000, adaptiv: true } })), "rate: unknown option 'adaptiv' (did you mean 'adaptive'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ isolate: { maxExtraCall: 2 } })), "callService() isolate: unknown option 'maxExtraCall' (did you mean 'maxExtraCalls'?)"],
      [() => new RateLimiter(typo({ calls: 1, per: 1000, adaptive: { decrese: 0.5 } })), "rate.adaptive: unknown option 'decrese' (did you mean 'decrease'?)"],
      [() => new RetryBudget(typo({ capacty: 5 })), "new RetryBudget(): unknown option 'capacty' (did you mean 'capacity'?)"],
      [() => postJson('http://127.0.0.1:1/x', typo({ header: {} })), "postJson(): unknown option 'header' (did you mean 'headers'?)"],
      [() => itemFailed('no', typo({ retriable: true })), "itemFailed(): unknown option 'retriable' (did you mean 'retryable'?)"],
      [() => postgres.query(pool, 'SELECT 1', [], typo({ batchsize: 5 })), "postgres.query(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => postgres.query(pool, 'SELECT 1', [], typo({ keyset: { keys: 'id' } })), "postgres.query() keyset: unknown option 'keys' (did you mean 'key'?)"],
      [() => postgres.write(pool, typo({ table: 't', transcation: 'load' })), "postgres.write(): unknown option 'transcation' (did you mean 'transaction'?)"],
      [() => pipe([1], typo({ signl: undefined })), "pipe(): unknown option 'signl' (did you mean 'signal'?)"],
      [() => mergeJoin([], typo({ on: 'id', maxGroupByte: 10 })), "mergeJoin(): unknown option 'maxGroupByte' (did you mean 'maxGroupBytes'?)"],
      [() => mergeJoin([], typo({ on: 'id', prefx: {} })), "mergeJoin(): unknown option 'prefx' (did you mean 'prefix'?)"],
      [() => mergeJoin([], typo({ on: 'id', sortInputs: { memmory: '1MB' } })), "mergeJoin() sortInputs: unknown option 'memmory' (did you mean 'memory'?)"],
      [() => hashJoin([], typo({ on: 'id', prefix: { rigth: 'r_' } })), "prefix: unknown option 'rigth' (did you mean 'right'?)"],
      [() => hashJoin([], typo({ on: 'id', tmpdir: '/tmp' })), "hashJoin(): unknown option 'tmpdir' (did you mean 'tmpDir'?)"],
      [() => lookup(new Map(), typo({ on: 'id', batchsize: 5 })), "lookup(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => lookup(new Map(), typo({ on: 'id', cache: { maxEntry: 5 } })), "lookup() cache: unknown option 'maxEntry' (did you mean 'maxEntries'?)"],
      [() => postgres.lookup(pool, 'SELECT 1 WHERE 1 = ANY($1)', typo({ keys: 'id' })), "postgres.lookup(): unknown option 'keys' (did you mean 'key'?)"],
      [() => postgres.split(pool, typo({ table: 't', key: 'id', colums: ['id'] })), "postgres.split(): unknown option 'colums' (did you mean 'columns'?)"],
      [() => postgres.split(pool, typo({ table: 't', key: 'id', keyset: { key: 'id' } })), "postgres.split(): unknown option 'keyset' (did you mean 'key'?)"],
      [() => csv.split('x.csv', typo({ quotedLineBreak: 'follow' })), "csv.split(): unknown option 'quotedLineBreak' (did you mean 'quotedLineBreaks'?)"],
      [() => csv.split('x.csv', typo({ chunksize: 10 })), "csv.split(): unknown option 'chunksize' (did you mean 'chunkSize'?)"],
      [() => distributed.job(typo({ ...job, rejectes: () => {} })), "distributed.job(): unknown option 'rejectes' (did you mean 'rejects'?)"],
      [() => distributed.job(typo({ ...job, exactlyOnce: { pool, marker: 't' } })), "exactlyOnce: unknown option 'marker' (did you mean 'markers'?)"],
      [() => distributed.pgBoss(pool, typo({ expireInSecond: 60 })), "distributed.pgBoss(): unknown option 'expireInSecond' (did you mean 'expireInSeconds'?)"],
      [() => distributed.bullmq('redis://127.0.0.1:1', typo({ lockDurationMs: 60 })), "distributed.bullmq(): unknown option 'lockDurationMs' (did you mean 'lockDuration'?)"],
      [() => distributed.sharedRate(pool, typo({ name: 'r', calls: 1, per: 1000, tabel: 't' })), "distributed.sharedRate(): unknown option 'tabel' (did you mean 'table'?)"],
    ]);
  });

  it('distributed.partition(), job.plan() and job.work() reject with the TypeError', async () => {
    const j = distributed.job(job as never);
    const reason = (p: Promise<unknown>) => p.then(() => null, (e: Error) => e);
    const { source, pipeline } = job;
    expect(await reason(distributed.partition(typo({ source, pipeline, index: 0, count: 1, splts: 4 })))).to.be.instanceOf(TypeError).with.property('message', "distributed.partition(): unknown option 'splts' (did you mean 'splits'?)");
    expect(await reason(j.plan(typo({ splits: 2, maxWaitin: 1 })))).to.be.instanceOf(TypeError).with.property('message', "job.plan(): unknown option 'maxWaitin' (did you mean 'maxWaiting'?)");
    expect(await reason(j.work(typo({ untill: 'drained' })))).to.be.instanceOf(TypeError).with.property('message', "job.work(): unknown option 'untill' (did you mean 'until'?)");
  });

  it("run() options too: the promise rejects with the TypeError, and the streams given are destroyed", async () => {
    const sink = csv.write(process.stdout, { end: false });
    const error = await run([['a']], sink, typo({ maxReject: 3 }) as object).then(() => null, (e: Error) => e);
    expect(error).to.be.instanceOf(TypeError).with.property('message', "run(): unknown option 'maxReject' (did you mean 'maxRejects'?)");
    expect(sink.destroyed).to.equal(true);
  });

  it('known options, and an options object left out, pass', () => {
    for (const stage of [csv.parse({ rows: 'objects', trim: true }), map((r) => r, { concurrency: 2 }), take(1), csv.format({ escape: '\\' } as never)]) stage.destroy();
  });

  it('nearest(): case, a missing or extra letter, a swap; nothing when far', () => {
    expect(nearest('ROWS', ['rows', 'header'])).to.equal('rows');
    expect(nearest('heder', ['rows', 'header'])).to.equal('header');
    expect(nearest('haeder', ['rows', 'header'])).to.equal('header');
    expect(nearest('zzz', ['rows', 'header'])).to.equal(null);
  });
});

describe('messages in the user’s terms (issue 12 §6)', () => {
  it('a binary file read as CSV says it looks binary, not only a field count', async () => {
    const png = Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\n'), Buffer.from([0, 0, 0, 13]), Buffer.from('IHDR,'), Buffer.from([0xff, 0xfe, 0x0a])]);
    const error = await run(csv.read(Readable.from([png], { objectMode: false }), { source: 'logo.png' }), new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }))
      .then(() => null, (e: Error) => e);
    expect(error?.message).to.equal('logo.png, line 3: expected 1 fields, got 2; the input looks binary (NUL bytes or invalid UTF-8), not CSV text');
  });

  it('a ragged text file keeps the plain message', async () => {
    const error = await run(csv.read(Readable.from(['a\n1,2\n'], { objectMode: false }), { source: 'x.csv' }), new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }))
      .then(() => null, (e: Error) => e);
    expect(error?.message).to.equal('x.csv, line 2: expected 1 fields, got 2');
  });
});
