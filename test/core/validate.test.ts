import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import {
  RateLimiter, RetryBudget, addColumn, agg, batch, callService, csv, distinct, distributed, filter, flatten, groupBy, hashJoin, itemFailed, lookup, map,
  mergeJoin, parallel, pipe, postJson, postgres, rename, replace, run, select, set, skip, sort, tap, take, topN,
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
      [() => addColumn('b', () => 1, typo({ onError: 'fail', x: 1 })), "addColumn(): unknown option 'x' (known: 'onError', 'highWaterMark', 'concurrency', 'ordered', 'reads')"],
      [() => take(1, typo({ highwatermark: 2 })), "take(): unknown option 'highwatermark' (did you mean 'highWaterMark'?)"],
      [() => skip(1, typo({ highWaterMarks: 2 })), "skip(): unknown option 'highWaterMarks' (did you mean 'highWaterMark'?)"],
      [() => flatten(typo({ depth: 2 })), "flatten(): unknown option 'depth' (known: 'highWaterMark')"],
      [() => batch(10, typo({ maxWait: 5 })), "batch(): unknown option 'maxWait' (did you mean 'maxWaitMs'?)"],
      [() => sort('a', typo({ memmory: '1MB' })), "sort(): unknown option 'memmory' (did you mean 'memory'?)"],
      [() => topN(3, 'a', typo({ comparator: () => 0 })), "topN(): unknown option 'comparator' (did you mean 'compare'?)"],
      [() => distinct('a', typo({ highWaterMark: 2, key: 'a' })), "distinct(): unknown option 'key' (known: 'signal', 'highWaterMark')"],
      [() => groupBy('a', { n: agg.count() }, typo({ sort: true })), "groupBy(): unknown option 'sort' (did you mean 'sorted'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ batchsize: 5 })), "callService(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ retries: { attempt: 2 } })), "callService(): unknown option 'attempt' in `retries` (did you mean 'attempts'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ rate: { calls: 1, per: 1000, adaptiv: true } })), "callService(): unknown option 'adaptiv' in `rate` (did you mean 'adaptive'?)"],
      [() => callService(async (rows: unknown[]) => rows, typo({ isolate: { maxExtraCall: 2 } })), "callService(): unknown option 'maxExtraCall' in `isolate` (did you mean 'maxExtraCalls'?)"],
      [() => new RateLimiter(typo({ calls: 1, per: 1000, adaptive: { decrese: 0.5 } })), "new RateLimiter(): unknown option 'decrese' in `rate.adaptive` (did you mean 'decrease'?)"],
      [() => new RetryBudget(typo({ capacty: 5 })), "new RetryBudget(): unknown option 'capacty' (did you mean 'capacity'?)"],
      [() => postJson('http://127.0.0.1:1/x', typo({ header: {} })), "postJson(): unknown option 'header' (did you mean 'headers'?)"],
      [() => itemFailed('no', typo({ retriable: true })), "itemFailed(): unknown option 'retriable' (did you mean 'retryable'?)"],
      [() => postgres.query(pool, 'SELECT 1', [], typo({ batchsize: 5 })), "postgres.query(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => postgres.query(pool, 'SELECT 1', [], typo({ keyset: { keys: 'id' } })), "postgres.query(): unknown option 'keys' in `keyset` (did you mean 'key'?)"],
      [() => postgres.write(pool, typo({ table: 't', transcation: 'load' })), "postgres.write(): unknown option 'transcation' (did you mean 'transaction'?)"],
      [() => pipe([1], typo({ signl: undefined })), "pipe(): unknown option 'signl' (did you mean 'signal'?)"],
      [() => mergeJoin([], typo({ on: 'id', maxGroupByte: 10 })), "mergeJoin(): unknown option 'maxGroupByte' (did you mean 'maxGroupBytes'?)"],
      [() => mergeJoin([], typo({ on: 'id', prefx: {} })), "mergeJoin(): unknown option 'prefx' (did you mean 'prefix'?)"],
      [() => mergeJoin([], typo({ on: 'id', sortInputs: { memmory: '1MB' } })), "mergeJoin(): unknown option 'memmory' in `sortInputs` (did you mean 'memory'?)"],
      [() => hashJoin([], typo({ on: 'id', prefix: { rigth: 'r_' } })), "hashJoin(): unknown option 'rigth' in `prefix` (did you mean 'right'?)"],
      [() => hashJoin([], typo({ on: 'id', tmpdir: '/tmp' })), "hashJoin(): unknown option 'tmpdir' (did you mean 'tmpDir'?)"],
      [() => lookup(new Map(), typo({ on: 'id', batchsize: 5 })), "lookup(): unknown option 'batchsize' (did you mean 'batchSize'?)"],
      [() => lookup(new Map(), typo({ on: 'id', cache: { maxEntry: 5 } })), "lookup(): unknown option 'maxEntry' in `cache` (did you mean 'maxEntries'?)"],
      [() => lookup(async () => [], typo({ on: 'id', retries: { attempt: 2 } })), "lookup(): unknown option 'attempt' in `retries` (did you mean 'attempts'?)"],
      [() => postgres.lookup(pool, 'SELECT 1 WHERE 1 = ANY($1)', typo({ keys: 'id' })), "postgres.lookup(): unknown option 'keys' (did you mean 'key'?)"],
      [() => postgres.split(pool, typo({ table: 't', key: 'id', colums: ['id'] })), "postgres.split(): unknown option 'colums' (did you mean 'columns'?)"],
      [() => postgres.split(pool, typo({ table: 't', key: 'id', keyset: { key: 'id' } })), "postgres.split(): unknown option 'keyset' (did you mean 'key'?)"],
      [() => csv.split('x.csv', typo({ quotedLineBreak: 'follow' })), "csv.split(): unknown option 'quotedLineBreak' (did you mean 'quotedLineBreaks'?)"],
      [() => csv.split('x.csv', typo({ chunksize: 10 })), "csv.split(): unknown option 'chunksize' (did you mean 'chunkSize'?)"],
      [() => distributed.job(typo({ ...job, rejectes: () => {} })), "distributed.job(): unknown option 'rejectes' (did you mean 'rejects'?)"],
      [() => distributed.job(typo({ ...job, exactlyOnce: { pool, marker: 't' } })), "distributed.job(): unknown option 'marker' in `exactlyOnce` (did you mean 'markers'?)"],
      [() => distributed.pgBoss(pool, typo({ expireInSecond: 60 })), "distributed.pgBoss(): unknown option 'expireInSecond' (did you mean 'expireInSeconds'?)"],
      [() => distributed.bullmq('redis://127.0.0.1:1', typo({ lockDurationMs: 60 })), "distributed.bullmq(): unknown option 'lockDurationMs' (did you mean 'lockDuration'?)"],
      [() => distributed.sharedRate(pool, typo({ name: 'r', calls: 1, per: 1000, tabel: 't' })), "distributed.sharedRate(): unknown option 'tabel' (did you mean 'table'?)"],
      [() => distributed.partitionIndex(typo({ count: 2, indx: 0 })), "distributed.partitionIndex(): unknown option 'indx' (did you mean 'index'?)"],
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

/** Issue 12 §6: every message names its function, as the user calls it. */
describe('messages name their function', () => {
  const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }); // never connects
  after(() => pool.end());
  /** Enough of a job for its checks: nothing here is ever opened or run. */
  const job = { engine: { take() {}, open: async () => {} }, name: 'q', source: csv.split('x.csv'), pipeline: (rows: unknown) => [rows] };

  it('a wrong-typed argument of every public factory names that factory', () => {
    expectTypeErrors([
      [() => csv.read(42 as never), 'csv.read(): expected `input` to be a path or a Readable, got `42` (number)'],
      [() => csv.parse({ rows: 5 as never }), "csv.parse(): expected `rows` to be one of 'arrays', 'objects', got `5` (number)"],
      [() => csv.format({ headers: 3 as never }), 'csv.format(): expected `headers` to be a boolean, an array of column names or a function returning one, got `3` (number)'],
      [() => csv.write(42 as never), 'csv.write(): expected `target` to be a path or a Writable, got `42` (number)'],
      [() => csv.split(42 as never), 'csv.split(): expected `file` to be a path, got `42` (number)'],
      [() => csv.split('x.csv').open(null as never), 'csv.split().open(): expected `split` to be a split of x.csv planned by csv.split, got `null`'],
      [() => map(1 as never), 'map(): expected `fn` to be a function, got `1` (number)'],
      [() => filter(1 as never), 'filter(): expected `predicate` to be a function, got `1` (number)'],
      [() => tap(1 as never), 'tap(): expected `fn` to be a function, got `1` (number)'],
      [() => select([1.5]), 'select(): expected `columns[0]` to be a column index (integer from 0) or a non-empty column name, got 1.5'],
      [() => set(-1, 0), 'set(): expected `column` to be a column index (integer from 0) or a non-empty column name, got -1'],
      [() => replace(true as never, {}), 'replace(): expected `column` to be a column index (integer from 0) or a non-empty column name, got true'],
      [() => rename(5 as never), 'rename(): expected `mapping` to be an object, got `5` (number)'],
      [() => addColumn('x', 5 as never), 'addColumn(): expected `compute` to be a function, got `5` (number)'],
      [() => take('3' as never), 'take(): expected `count` to be an integer from 0 and up, got `3` (string)'],
      [() => skip('3' as never), 'skip(): expected `count` to be an integer from 0 and up, got `3` (string)'],
      [() => batch('3' as never), 'batch(): expected `size` to be an integer from 1 and up, got `3` (string)'],
      [() => flatten(5 as never), 'flatten(): expected `options` to be an object, got `5` (number)'],
      [() => sort(true as never), 'sort(): expected `by` to be a column index from 0 and up, a column name or a function, got `true` (boolean)'],
      [() => topN('3' as never, 'a'), 'topN(): expected `n` to be an integer from 0 and up, got `3` (string)'],
      [() => distinct(true as never), 'distinct(): expected `key` to be a column index from 0 and up, a column name, a list of them or a function, got `true` (boolean)'],
      [() => groupBy('a', 5 as never), 'groupBy(): expected `aggregations` to be an object, got `5` (number)'],
      [() => callService(5 as never), 'callService(): expected `fn` to be a function, got `5` (number)'],
      [() => postJson(5 as never), 'postJson(): expected `url` to be an absolute URL, got `5` (number)'],
      [() => itemFailed('x', { status: '500' as never }), 'itemFailed(): expected `status` to be an integer from 100 and up, got `500` (string)'],
      [() => new RateLimiter({ calls: '1' as never, per: 1000 }), 'new RateLimiter(): expected `rate.calls` to be an integer from 1 and up, got `1` (string)'],
      [() => new RetryBudget({ capacity: '5' as never }), 'new RetryBudget(): expected `budget.capacity` to be an integer from 0 and up, got `5` (string)'],
      [() => postgres.query(42 as never, 'SELECT 1'), 'postgres.query(): expected `target` to be a pg.Pool, a connected pg.Client or a connection string, got number'],
      [() => postgres.write(42 as never, { table: 't' }), 'postgres.write(): expected `target` to be a pg.Pool, a connected pg.Client or a connection string, got number'],
      [() => postgres.lookup(pool, 42 as never), 'postgres.lookup(): expected `sql` to be a query with $1 for the keys, got `42` (number)'],
      [() => postgres.split(pool, { table: 't', key: 5 as never }), 'postgres.split(): expected `key` to be a non-empty name, got `5` (number)'],
      [() => postgres.split(pool, { table: 't', key: 'id' }).open(null as never), 'postgres.split().open(): expected `split` to be a split of t on id planned by postgres.split, got `null`'],
      [() => pipe(42 as never), 'pipe(): expected a source (a Readable, an iterable of rows or a generator), got number'],
      [() => mergeJoin([], { on: 'k', compare: 5 as never }), 'mergeJoin(): expected `compare` to be a function, got `5` (number)'],
      [() => hashJoin('x.csv' as never, { on: 'k' }), 'hashJoin(): expected `build` to be a source (a Readable, an iterable of rows or a generator), got string'],
      [() => lookup(42 as never, { on: 'k' }), 'lookup(): expected `source` to be a lookup function, a Map or an object, got `42` (number)'],
      [() => parallel.map(42 as never), 'parallel.map(): expected `module` to be a path or a URL, got `42` (number)'],
      [() => distributed.partitionIndex({ index: '0' as never, count: 1 }), 'distributed.partitionIndex(): expected `index` to be an integer from 0 and up, got `0` (string)'],
      [() => distributed.job({ ...job, pipeline: 5 as never } as never), 'distributed.job(): expected `pipeline` to be a function, got `5` (number)'],
      [() => distributed.pgBoss(pool, { retryLimit: '5' as never }), 'distributed.pgBoss(): expected `retryLimit` to be an integer from 0 and up, got `5` (string)'],
      [() => distributed.bullmq(42 as never), 'distributed.bullmq(): expected `connection` to be a redis:// URL or ioredis options, got `42` (number)'],
      [() => distributed.sharedRate(pool, { name: 'r', calls: '1' as never, per: 1000 }), 'distributed.sharedRate(): expected `calls` to be an integer from 1 and up, got `1` (string)'],
    ]);
  });

  it('the async ones (run(), distributed.partition(), plan(), work()) reject with a TypeError naming the function', async () => {
    const reason = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
    const cases: [Promise<unknown>, string][] = [
      [run(42 as never), 'run(): expected a source (a Readable, an iterable of rows or a generator), got number'],
      [distributed.partition({ index: 0, count: 1, source: job.source, pipeline: 5 as never }), 'distributed.partition(): expected `pipeline` to be a function, got `5` (number)'],
      [distributed.job(job as never).plan({ splits: '2' as never }), 'job.plan(): expected `splits` to be an integer from 1 and up, got `2` (string)'],
      [distributed.job(job as never).work({ pollMs: '5' as never }), 'job.work(): expected `pollMs` to be an integer from 1 and up, got `5` (string)'],
      [csv.split('x.csv').plan('2' as never), 'csv.split().plan(): expected `n` to be an integer from 1 and up, got `2` (string)'],
      [postgres.split(pool, { table: 't', key: 'id' }).plan('2' as never), 'postgres.split().plan(): expected `n` to be an integer from 1 and up, got `2` (string)'],
    ];
    for (const [promise, message] of cases) expect(await reason(promise)).to.be.instanceOf(TypeError).with.property('message', message);
  });

  it('nested, the name is the one the user called: callService() for its rate, csv.read() inside a source function given to run()', async () => {
    expectTypeErrors([
      [() => callService(async (rows: unknown[]) => rows, { rate: { calls: 0, per: 1000 } }), 'callService(): expected `rate.calls` to be an integer from 1 and up, got `0` (number)'],
      [() => lookup(async () => [], { on: 'k', concurrency: 0 }), 'lookup(): expected `concurrency` to be an integer from 1 and up, got `0` (number)'],
    ]);
    const error = await run(() => csv.read('x.csv', { rows: 'lists' as never }), new Writable({ objectMode: true, write: (_r, _e, cb) => cb() })).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError).with.property('message', "csv.read(): expected `rows` to be one of 'arrays', 'objects', got `lists` (string)");
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
