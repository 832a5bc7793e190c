import { expect } from 'chai';
import type pg from 'pg';
import { csv, distributed, postgres, type CsvSplit } from '../../lib/index.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { collector } from '../helpers/csv.js';
import { usePostgres } from '../helpers/postgres.js';

describe('distributed.partitionIndex()', () => {
  it('takes explicit options first', () => {
    expect(distributed.partitionIndex({ index: 2, count: 5, env: { JOB_COMPLETION_INDEX: '1' } })).to.deep.equal({ index: 2, count: 5, from: 'options' });
  });

  it('Kubernetes Indexed Job: JOB_COMPLETION_INDEX, with the count given', () => {
    expect(distributed.partitionIndex({ count: 4, env: { JOB_COMPLETION_INDEX: '3' } })).to.deep.equal({ index: 3, count: 4, from: 'JOB_COMPLETION_INDEX' });
    expect(() => distributed.partitionIndex({ env: { JOB_COMPLETION_INDEX: '3' } })).to.throw(
      TypeError,
      "distributed.partitionIndex(): JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the count is not: pass `count` (the Job's `completions`)",
    );
  });

  it('AWS Batch array jobs and Cloud Run jobs: index and size from the environment', () => {
    expect(distributed.partitionIndex({ env: { AWS_BATCH_JOB_ARRAY_INDEX: '0', AWS_BATCH_JOB_ARRAY_SIZE: '10' } })).to.deep.equal({ index: 0, count: 10, from: 'AWS_BATCH_JOB_ARRAY_INDEX' });
    expect(distributed.partitionIndex({ count: 7, env: { AWS_BATCH_JOB_ARRAY_INDEX: '6' } })).to.deep.equal({ index: 6, count: 7, from: 'AWS_BATCH_JOB_ARRAY_INDEX' });
    expect(distributed.partitionIndex({ env: { CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_TASK_COUNT: '2' } })).to.deep.equal({ index: 1, count: 2, from: 'CLOUD_RUN_TASK_INDEX' });
  });

  it('invalid or missing values throw naming what is wrong', () => {
    expect(() => distributed.partitionIndex({ env: {} })).to.throw(TypeError, 'distributed.partitionIndex(): no partition index: pass `index` and `count`, or run where JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, CLOUD_RUN_TASK_INDEX is set');
    expect(() => distributed.partitionIndex({ count: 2, env: { JOB_COMPLETION_INDEX: 'x' } })).to.throw(TypeError, 'distributed.partitionIndex(): expected `JOB_COMPLETION_INDEX` to be a whole number (from the environment), got `x` (string)');
    expect(() => distributed.partitionIndex({ index: 4, count: 4 })).to.throw(TypeError, 'distributed.partitionIndex(): index 4 (from options) is not below the count 4');
    expect(() => distributed.partitionIndex({ index: -1, count: 4 })).to.throw(TypeError, 'distributed.partitionIndex(): expected `index` to be an integer from 0 and up, got `-1` (number)');
    expect(() => distributed.partitionIndex({ index: 0, count: 0 })).to.throw(TypeError, 'distributed.partitionIndex(): expected `count` to be an integer from 1 and up, got `0` (number)');
    expect(() => distributed.partitionIndex(5 as never)).to.throw(TypeError, 'distributed.partitionIndex(): expected `options` to be an object, got `5` (number)');
    expect(() => distributed.partitionIndex({ count: 2, env: 'JOB_COMPLETION_INDEX=1' as never })).to.throw(TypeError, 'distributed.partitionIndex(): expected `env` to be an object, got `JOB_COMPLETION_INDEX=1` (string)');
    expect(() => distributed.partitionIndex({ env: { CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '0' } })).to.throw(TypeError, 'distributed.partitionIndex(): expected `CLOUD_RUN_TASK_COUNT` to be an integer from 1 and up, got `0` (number)');
  });
});

describe('distributed.partition()', () => {
  const db = usePostgres();
  let tmp: TempDir;
  let file: string;
  let pool: pg.Pool;
  const ROWS = 1000;

  before(async () => {
    tmp = await tempDir('sluice-partition-test-');
    file = await tmp.write('in.csv', 'id,name\n' + Array.from({ length: ROWS }, (_, i) => `${i + 1},n${i + 1}\n`).join(''));
    pool = db.pool({ max: 3 });
  });
  after(() => tmp.remove());

  it('the partitions of a Kubernetes Indexed Job together read every row exactly once', async () => {
    const seen: string[] = [];
    const summaries = [];
    for (let index = 0; index < 3; index++) {
      const summary = await distributed.partition({
        count: 3,
        splits: 10,
        env: { JOB_COMPLETION_INDEX: String(index) },
        source: csv.split(file),
        pipeline: (rows) => {
          const sink = collector<string[]>();
          sink.on('finish', () => seen.push(...sink.rows.map((r) => r[0])));
          return [rows, sink];
        },
      });
      summaries.push(summary);
    }
    expect(summaries.map((s) => [s.index, s.count, s.splits.length])).to.deep.equal([[0, 3, 4], [1, 3, 3], [2, 3, 3]]);
    expect(summaries.reduce((n, s) => n + s.read, 0)).to.equal(ROWS);
    expect(seen.map(Number).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: ROWS }, (_, i) => i + 1));
    // Partition 1 ran splits 1, 4 and 7 of the plan.
    const plan = await csv.split(file).plan(10);
    expect(summaries[1].splits.map((s) => s.split)).to.deep.equal([plan[1].id, plan[4].id, plan[7].id]);
  });

  it('with exactlyOnce, a re-run partition skips the splits it committed before', async () => {
    await db.query(`CREATE TABLE ${db.schema}.people (id int, name text)`);
    const options = {
      count: 2,
      index: 1,
      splits: 6,
      name: 'people-load',
      exactlyOnce: { pool, markers: `${db.schema}.done` },
      source: csv.split<string[]>(file),
      pipeline: (rows: unknown, { client }: { client: pg.ClientBase | null }) => [rows, postgres.write(client!, { table: 'people' })],
    };
    const first = await distributed.partition(options);
    const again = await distributed.partition(options);
    expect(first.splits.map((s) => s.skipped)).to.deep.equal([false, false, false]);
    expect(again.splits.map((s) => s.skipped)).to.deep.equal([true, true, true]);
    expect(again.rows).to.equal(0);
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM ${db.schema}.people`);
    expect(rows[0]).to.deep.equal({ n: String(first.rows), d: String(first.rows) });
    const markers = await db.query<{ split: string; rows: string }>(`SELECT split, rows FROM ${db.schema}.done WHERE job = 'people-load' ORDER BY split`);
    expect(markers.rows.map((m) => Number(m.rows)).reduce((a, b) => a + b, 0)).to.equal(first.rows);
  });

  it('a failing split fails the partition, its rows rolled back', async () => {
    await db.query(`CREATE TABLE ${db.schema}.strict (id int CHECK (id <> 500), name text)`);
    const source = csv.split<string[]>(file);
    const splits: CsvSplit[] = await source.plan(4);
    const error = await distributed
      .partition({
        index: 0,
        count: 1,
        splits: 4,
        exactlyOnce: { pool, markers: `${db.schema}.done` },
        source,
        pipeline: (rows, { client }) => [rows, postgres.write(client!, { table: 'strict' })],
      })
      .then(() => null, (e: unknown) => e as Error);
    expect(error?.name).to.equal('PostgresWriteError');
    // id 500 is on line 501: the splits before its split committed, its own left nothing.
    const failing = splits.findLast((s) => s.line <= 501)!;
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.strict`);
    expect(Number(rows[0].n)).to.equal(failing.line - 2);
    const markers = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.done WHERE job = 'sluice'`);
    expect(Number(markers.rows[0].n)).to.equal(failing.index);
  });

  it('invalid options throw naming the option', async () => {
    const bad = (o: object) => distributed.partition(o as never).then(() => null, (e: unknown) => e as Error);
    expect(await bad({ index: 0, count: 1, pipeline: () => [] })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): expected `source` to be a split source (csv.split, postgres.split), got `undefined` (undefined)');
    expect(await bad({ index: 0, count: 1, source: csv.split(file) })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): expected `pipeline` to be a function, got `undefined` (undefined)');
    expect(await bad({ index: 0, count: 1, source: csv.split(file), pipeline: () => [], splits: 0 })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): expected `splits` to be an integer from 1 and up, got `0` (number)');
    expect(await bad({ index: 0, count: 1, source: csv.split(file), pipeline: () => [], exactlyOnce: { pool: {} } })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): expected `exactlyOnce.pool` to be a pg.Pool, got an object');
    expect(await bad({ count: 1, source: csv.split(file), pipeline: () => [], env: 'JOB_COMPLETION_INDEX=0' })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): expected `env` to be an object, got `JOB_COMPLETION_INDEX=0` (string)');
    expect(await bad({ count: 1, source: csv.split(file), pipeline: () => [], env: {} })).to.be.instanceOf(TypeError)
      .with.property('message', 'distributed.partition(): no partition index: pass `index` and `count`, or run where JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, CLOUD_RUN_TASK_INDEX is set');
  });
});
