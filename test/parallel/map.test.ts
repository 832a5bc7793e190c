import { expect } from 'chai';
import { BroadcastChannel } from 'node:worker_threads';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AbortError, RowError, WorkerError, csv, map, originOf, parallel, pipe, run, take, type Reject } from '../../lib/index.js';
import { numberedCsv, tempDir, type TempDir } from '../helpers/files.js';
import { countBaseline, liveWorkers, stable, until } from './threads.js';
import {
  CountingSource,
  StalledSink,
  collect,
  counts,
  destroyAll,
  expectTypeErrors,
  ignoresBackpressure,
  measureHeld,
  quiesce,
  range,
  rejectionOf,
  runAccounted,
} from '../helpers/streams.js';

const fixtures = fileURLToPath(new URL('./fixtures/rows.ts', import.meta.url));
const ids = (n: number): number[][] => range(n).map((i) => [i]);

/** The test's end of a fixture's channel: which rows started, and releasing them one by one. */
class Channel {
  readonly name = `parallel-test-${process.pid}-${Math.random()}`;
  readonly started: number[] = [];
  readonly aborted: number[] = [];
  private readonly channel = new BroadcastChannel(this.name);
  constructor() {
    this.channel.onmessage = (event) => {
      const data = (event as MessageEvent).data as { started?: number; aborted?: number };
      if (data.started !== undefined) this.started.push(data.started);
      if (data.aborted !== undefined) this.aborted.push(data.aborted);
    };
  }
  release(...rows: number[]): void {
    for (const row of rows) this.channel.postMessage(row);
  }
  close(): void {
    this.channel.close();
  }
}

describe('parallel.map()', function () {
  this.timeout(60_000);
  let dir: TempDir;
  before(async () => {
    countBaseline();
    dir = await tempDir('sluice-parallel-');
  });
  after(() => dir.remove());
  afterEach(() => expect(liveWorkers(), 'no worker thread outlives its stage').to.equal(0));

  describe('behaviour', () => {
    it('maps every row on worker threads, in input order, with { index } from 1', async () => {
      const stage = parallel.map<number[], number[]>(fixtures, { threads: 2, batchBytes: 64 });
      const sink = collect<number[]>();
      const summary = await runAccounted(ids(300), stage, sink);
      expect(sink.rows).to.deep.equal(range(300).map((i) => [i, i]));
      expect(counts(summary)).to.deep.equal({ read: 300, written: 300, filtered: 0, rejected: 0, stoppedEarly: false });
      expect(stage.stats.batches).to.be.greaterThan(10);
      expect(stage.stats.rowsRun).to.equal(300);
      expect(stage.stage).to.equal('parallel.map(rows.ts)');
    });

    it('runs a named async export, from a path, a file URL string or a URL', async () => {
      for (const module of [fixtures, new URL('./fixtures/rows.ts', import.meta.url).href, new URL('./fixtures/rows.ts', import.meta.url)]) {
        const sink = collect<unknown[]>();
        const stage = parallel.map<number[], unknown[]>(module, { export: 'later', threads: 1 });
        await runAccounted(ids(3), stage, sink);
        expect(sink.rows).to.deep.equal([[1, 'async'], [2, 'async'], [3, 'async']]);
        expect(stage.stage).to.equal('parallel.map(rows.ts#later)');
      }
    });

    it('round-trips every value type exactly (Buffers too), in arrays and objects', async () => {
      const row = {
        text: 'a,"b"\n\r\u0000é😀',
        numbers: [0, -0, NaN, Infinity, -Infinity, 1.5e300],
        big: 2n ** 70n,
        flags: [true, false, null],
        date: new Date(Date.UTC(2018, 0, 2)),
        buffer: Buffer.from([0, 1, 255]),
        nested: { list: [{ a: 1 }], deep: { empty: '' } },
        ...JSON.parse('{"__proto__": "kept as a key"}'),
      };
      const rows = [row, ['plain', 'strings'], [Buffer.from('x')]];
      const sink = collect<typeof row>();
      await runAccounted(rows, parallel.map(fixtures, { export: 'echo', threads: 1 }), sink);
      expect(sink.rows).to.deep.equal(rows);
      const [back] = sink.rows;
      expect(Object.is(back.numbers[1], -0)).to.equal(true);
      expect(Buffer.isBuffer(back.buffer)).to.equal(true);
      expect(Object.keys(back)).to.include('__proto__');
      expect(Object.getPrototypeOf(back)).to.equal(Object.prototype);
    });

    it('a result that appends to its row comes back whole, a row changed in place or a mixed batch too', async () => {
      const rows = [[1, -0, NaN, 'a'], [2, 'b', null, true], [3, 'c', undefined, 10n], [4, 'd', 'e', 'f']];
      const changed = collect<unknown[]>();
      await runAccounted(rows.map((r) => [...r]), parallel.map(fixtures, { export: 'changeThenAppend', threads: 1 }), changed);
      expect(changed.rows).to.deep.equal(rows.map(([id, ...rest]) => [`changed ${String(id)}`, ...rest, 'appended']));
      const mixed = collect<unknown[]>();
      await runAccounted(rows, parallel.map(fixtures, { export: 'appendOrReplace', threads: 1 }), mixed);
      expect(mixed.rows).to.deep.equal([['replaced', 1], [...rows[1], 'appended'], ['replaced', 3], [...rows[3], 'appended']]);
      const tagged = collect<unknown[]>();
      await runAccounted(rows, parallel.map(fixtures, { threads: 1 }), tagged);
      expect(tagged.rows).to.deep.equal(rows.map((r, i) => [...r, i + 1]));
      expect(Object.is(tagged.rows[0][1], -0)).to.equal(true);
    });

    it('rows read by csv.read cross as their lines: the results equal an inline map, rows changed in place and quoted ones too', async () => {
      const file = await dir.write('lines.csv', 'id,name,note\n' + range(400).map((i) => (i % 7 === 0 ? `${i},"quoted, ${i}", x` : `${i},name${i},${i % 5 === 0 ? '' : ' edge '}`)).join('\n') + '\n');
      const changeSome = () => map((row: string[]) => {
        if (Number(row[0]) % 11 === 0) row[1] = 'changed';
        return row;
      });
      const threaded = collect<string[]>();
      await run(csv.read(file), changeSome(), parallel.map(fixtures, { threads: 2, batchBytes: 300 }), threaded);
      const inline = collect<string[]>();
      await run(csv.read(file), changeSome(), map((row: string[], { index }) => [...row, index]), inline);
      expect(threaded.rows).to.have.length(400);
      expect(threaded.rows).to.deep.equal(inline.rows);
      expect(threaded.rows.map((row) => originOf(row)?.line)).to.deep.equal(range(400, 2));
    });

    it('a slow function\'s batches are cut to a few milliseconds of its measured work, whatever batchBytes allows', async () => {
      // 5 ms a row: once a batch has been measured, a batch holds 2 rows (10 ms), not the 5 that batchBytes allows.
      const stage = parallel.map<number[], number[]>(fixtures, { export: 'busyFor', threads: 1, batchBytes: 5 * 24 });
      const sink = collect<number[]>();
      await run(range(40).map((i) => [i, 5]), stage, sink);
      expect(sink.rows).to.deep.equal(range(40).map((i) => [i]));
      // Until the first result, at most 3 batches of 5 (2 in flight, 1 filling); the other 25 rows in batches of at most 2.
      expect(stage.stats.batches).to.be.at.least(3 + 13);
    });

    it('differential: line rows, ragged, quoted, changed upstream, whose results append, replace, change in place or throw, equal an inline map', async () => {
      const { appendMostly } = await import('./fixtures/rows.js');
      const line = (i: number) => (i % 19 === 0 ? `${i},"quoted, ${i}"` : i % 4 === 0 ? `${i},a${i},b,c` : `${i},name${i},x`);
      const file = await dir.write('mixed.csv', 'id,name,note\n' + range(600).map(line).join('\n') + '\n');
      const changeSome = () => map((row: string[]) => {
        if (Number(row[0]) % 23 === 0) row[1] = 'changed upstream';
        return row;
      });
      // (The error names its stage, which differs.)
      const replaceWith = (row: string[]) => ['failed', row[0]!];
      for (const batchBytes of [40, 300, 1 << 20]) {
        const threaded = collect<string[]>();
        await run(csv.read(file, { ragged: 'keep' }), changeSome(), parallel.map(fixtures, { export: 'appendMostly', threads: 2, batchBytes, onError: { replaceWith } }), threaded);
        const inline = collect<string[]>();
        await run(csv.read(file, { ragged: 'keep' }), changeSome(), map(appendMostly, { onError: { replaceWith } }), inline);
        expect(threaded.rows, `batchBytes ${batchBytes}`).to.deep.equal(inline.rows);
        expect(threaded.rows.map((row) => originOf(row)?.line)).to.deep.equal(range(600, 2));
      }
    });

    it('handles empty input without starting a thread', async () => {
      const sink = collect();
      const summary = await runAccounted([], parallel.map(fixtures, { threads: 2 }), sink);
      expect(summary.read).to.equal(0);
      expect(sink.rows).to.deep.equal([]);
    });

    it('ordered (the default): a slow batch holds back the ones after it', async () => {
      const channel = new Channel();
      try {
        const sink = collect<unknown[]>();
        const done = run(range(3).map((i) => [i, channel.name]), parallel.map(fixtures, { export: 'held', threads: 2, batchBytes: 1 }), sink);
        await until(() => channel.started.length === 2, 'two rows started');
        channel.release(2);
        await until(() => channel.started.length === 3, 'row 3 started in the freed worker');
        channel.release(3);
        await quiesce(() => sink.rows.length);
        expect(sink.rows).to.deep.equal([]);
        channel.release(1);
        await done;
        expect(sink.rows.map((r) => r[0])).to.deep.equal([1, 2, 3]);
      } finally {
        channel.close();
      }
    });

    it('ordered: false: a batch leaves as soon as it is done, ahead of a slow one', async () => {
      const channel = new Channel();
      try {
        const sink = collect<unknown[]>();
        const done = runAccounted(range(4).map((i) => [i, channel.name]), parallel.map(fixtures, { export: 'held', threads: 2, batchBytes: 1, ordered: false }), sink);
        await until(() => channel.started.length === 2, 'two rows started');
        channel.release(2);
        await until(() => sink.rows.length === 1 && channel.started.length === 3, 'row 2 out, row 3 started');
        channel.release(3);
        await until(() => sink.rows.length === 2 && channel.started.length === 4, 'row 3 out, row 4 started');
        channel.release(4, 1);
        const summary = await done;
        expect(sink.rows.slice(0, 2).map((r) => r[0])).to.deep.equal([2, 3]);
        expect([...sink.rows.map((r) => r[0] as number)].sort()).to.deep.equal([1, 2, 3, 4]);
        expect(summary.written).to.equal(4);
      } finally {
        channel.close();
      }
    });
  });

  describe('options', () => {
    it('throws the documented TypeError for invalid values, before any thread exists', () => {
      expectTypeErrors([
        [() => parallel.map(3 as never), 'parallel.map(): expected `module` to be a path or a URL, got `3` (number)'],
        [() => parallel.map(''), 'parallel.map(): expected `module` to be a path or a URL, got `` (string)'],
        [() => parallel.map(fixtures, null as never), 'parallel.map(): expected `options` to be an object, got `null`'],
        [() => parallel.map(fixtures, { threads: 0 }), 'parallel.map(): expected `threads` to be an integer from 1 and up, got `0` (number)'],
        [() => parallel.map(fixtures, { threads: 1.5 }), 'parallel.map(): expected `threads` to be an integer from 1 and up, got `1.5` (number)'],
        [() => parallel.map(fixtures, { batchBytes: 0 }), 'parallel.map(): expected `batchBytes` to be an integer from 1 and up, got `0` (number)'],
        [() => parallel.map(fixtures, { retries: -1 }), 'parallel.map(): expected `retries` to be an integer from 0 and up, got `-1` (number)'],
        [() => parallel.map(fixtures, { timeout: 0 }), 'parallel.map(): expected `timeout` to be an integer from 1 and up, got `0` (number)'],
        [() => parallel.map(fixtures, { export: '' }), 'parallel.map(): expected `export` to be the name of an export, got `` (string)'],
        [() => parallel.map(fixtures, { ordered: 'yes' as never }), 'parallel.map(): expected `ordered` to be a boolean, got `yes` (string)'],
        [() => parallel.map(fixtures, { mainThread: 1 as never }), 'parallel.map(): expected `mainThread` to be a boolean, got `1` (number)'],
        [() => parallel.map(fixtures, { resourceLimits: 5 as never }), 'parallel.map(): expected `resourceLimits` to be an object, got `5` (number)'],
        [() => parallel.map(fixtures, { onError: 'skip' as never }), "parallel.map(): expected `onError` to be 'fail', 'reject' or { replaceWith }, got `skip` (string)"],
      ]);
      expect(liveWorkers()).to.equal(0);
    });

    it('does not change a frozen options object; highWaterMark reaches both sides', async () => {
      const options = Object.freeze({ threads: 1, highWaterMark: 4, resourceLimits: Object.freeze({ maxOldGenerationSizeMb: 64 }) });
      const stage = parallel.map(fixtures, options);
      expect([stage.readableHighWaterMark, stage.writableHighWaterMark]).to.deep.equal([4, 4]);
      await runAccounted(ids(2), stage, collect());
      expect(options).to.deep.equal({ threads: 1, highWaterMark: 4, resourceLimits: { maxOldGenerationSizeMb: 64 } });
    });
  });

  describe('backpressure', () => {
    it('at most threads × 2 batches in flight; the source stops, holding exactly the bound', async () => {
      const channel = new Channel();
      const [hs, h, threads] = [2, 3, 2];
      const source = new CountingSource(10_000, { highWaterMark: hs, row: (i) => [i, channel.name] });
      const stage = parallel.map(fixtures, { export: 'held', threads, batchBytes: 1, highWaterMark: h });
      const sink = new StalledSink();
      try {
        pipeline(source, stage, sink, () => {});
        await until(() => channel.started.length === threads, 'every worker busy');
        const pulled = await quiesce(() => source.pulled);
        // threads × 2 one-row batches out (the last one's write held), the stage's input
        // buffer full behind it (h rows counting that one), the source's buffer full.
        expect(pulled).to.equal(threads * 2 + (h - 1) + hs);
        expect(channel.started.length, 'one batch a worker at a time').to.equal(threads);
      } finally {
        await destroyAll(source, stage, sink);
        channel.close();
      }
    });

    // Workers answer in their own time, so "nothing moves any more" is a count unchanged
    // for 300 ms after the first results came back (there is no event for it).
    for (const [b, threads, h] of [[3, 1, 2], [4, 2, 4], [1, 1, 1], [5, 2, 3]]) {
      it(`stalled consumer (${b}-row batches, ${threads} threads, stage ${h}): at most one batch past the output's mark, the source stops`, async () => {
        const hs = 2;
        const source = new CountingSource(10_000, { highWaterMark: hs, row: (i) => [i] });
        const stage = parallel.map(fixtures, { threads, batchBytes: 16 * b, highWaterMark: h }); // [i] counts 16 bytes
        const sink = new StalledSink(1);
        try {
          pipeline(source, stage, sink, () => {});
          await until(() => stage.stats.batches > 0, 'first results');
          await stable(() => source.pulled + stage.stats.batches);
          expect(stage.readableLength, 'output buffer').to.be.at.most(h + b - 1);
          // In the stage: threads × 2 batches out or done, one being filled, the input buffer;
          // then one batch of results in the output buffer and one row in the sink.
          const bound = hs + h + (threads * 2 + 1) * b + (h + b - 1) + 1;
          expect(source.pulled).to.be.at.most(bound);
          expect(stage.stats.batches, 'the workers ran the batches in flight').to.be.at.least(threads);
        } finally {
          await destroyAll(source, stage, sink);
        }
      });
    }

    it('control: the same measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(2), { sourceHighWaterMark: 2, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.equal(2_000);
      expect(held.pulled).to.be.greaterThan(2 + 2 + 5 * 5 + 6 + 1);
    });
  });

  describe('errors', () => {
    it('a throw fails the stage with a RowError naming the row and its source line; the worker stack is the cause', async () => {
      const file = await dir.write('names.csv', numberedCsv(6));
      const stage = parallel.map<string[], string[]>(fixtures, { export: 'failOnThree', threads: 2, batchBytes: 16 });
      const sink = collect<string[]>();
      const error = await rejectionOf(run(csv.read(file), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal(`parallel.map(rows.ts#failOnThree) failed on row 3 (${file}, line 4): no name for name3`);
      expect([(error as RowError).row, (error as RowError).line]).to.deep.equal([3, 4]);
      const cause = error.cause as Error;
      expect(cause.name).to.equal('TypeError');
      expect(cause.stack).to.include('failOnThree').and.to.include('rows.ts');
      expect(sink.rows).to.deep.equal([['1', 'name1', 'ok'], ['2', 'name2', 'ok']]);
      expect(stage.closed).to.equal(true);
    });

    it('returning null is a RowError, as in map', async () => {
      const error = await rejectionOf(run(ids(3), parallel.map(fixtures, { export: 'nullOn2', threads: 1 }), collect()));
      expect(error.message).to.equal('parallel.map(rows.ts#nullOn2) failed on row 2: returned null');
    });

    it("onError 'reject' and { replaceWith } work as for map; every row accounted for", async () => {
      const rows = range(6).map((i) => [i, [2, 5]]);
      const rejects: Reject[] = [];
      const sink = collect<unknown[]>();
      const summary = await runAccounted(rows, parallel.map(fixtures, { export: 'throwOn', threads: 2, batchBytes: 24, onError: 'reject' }), sink, {
        rejects: (reject) => void rejects.push(reject),
      });
      expect(rejects.map((r) => [r.index, r.reason])).to.deep.equal([[2, 'bad id 2'], [5, 'bad id 5']]);
      expect(rejects[0].row).to.deep.equal([2, [2, 5]]);
      expect(sink.rows).to.deep.equal([1, 3, 4, 6].map((i) => [i, 'ok']));
      expect(counts(summary)).to.deep.equal({ read: 6, written: 4, filtered: 0, rejected: 2, stoppedEarly: false });

      const replaced = collect<unknown[]>();
      const replaceWith = (row: unknown[], error: Error) => [row[0], error.message];
      await runAccounted(rows, parallel.map(fixtures, { export: 'throwOn', threads: 1, onError: { replaceWith } }), replaced);
      expect(replaced.rows).to.deep.equal([[1, 'ok'], [2, 'parallel.map(rows.ts#throwOn) failed on row 2: bad id 2'], [3, 'ok'], [4, 'ok'], [5, 'parallel.map(rows.ts#throwOn) failed on row 5: bad id 5'], [6, 'ok']]);
    });

    it('a worker that exits fails the stage with a WorkerError naming the batch', async () => {
      const stage = parallel.map(fixtures, { export: 'exitOn', threads: 2, batchBytes: 72 }); // [i, 7]: 24 bytes, 3 rows a batch
      const sink = collect<unknown[]>();
      const error = await rejectionOf(run(range(12).map((i) => [i, 7]), stage, sink));
      expect(error).to.be.instanceOf(WorkerError);
      expect(error.message).to.match(/^parallel\.map\(rows\.ts#exitOn\) failed on batch 3 \(rows 7-9\): .*exit/i);
      expect((error as WorkerError).batch).to.equal(3);
      expect(sink.rows.length).to.be.at.most(6);
    });

    it('with retries, a batch whose worker exited runs again on a fresh worker: every row once, in order', async () => {
      const marker = dir.file(`crashed-${Date.now()}`);
      const stage = parallel.map(fixtures, { export: 'exitOn', threads: 2, batchBytes: 40, retries: 1 });
      const sink = collect<unknown[]>();
      const summary = await runAccounted(range(20).map((i) => [i, 7, marker]), stage, sink);
      expect(sink.rows).to.deep.equal(ids(20));
      expect(summary.written).to.equal(20);
      expect(stage.stats.retried).to.equal(1);
    });

    it('a worker that never answers fails the stage after `timeout` with a WorkerError naming the batch; its thread is ended', async () => {
      const stage = parallel.map(fixtures, { export: 'hangOn', threads: 2, batchBytes: 72, timeout: 300 }); // 3 rows a batch
      const sink = collect<unknown[]>();
      const started = Date.now();
      const error = await rejectionOf(run(range(12).map((i) => [i, 7]), stage, sink));
      expect(Date.now() - started).to.be.at.least(300);
      expect(error).to.be.instanceOf(WorkerError);
      expect(error.message).to.equal('parallel.map(rows.ts#hangOn) failed on batch 3 (rows 7-9): no answer within its timeout of 300 ms (the worker was terminated)');
      expect((error as WorkerError).batch).to.equal(3);
      expect(sink.rows.length).to.be.at.most(6);
    });

    it('timeout counts from when a worker starts the batch, not while it waits in line behind another', async () => {
      // One thread, two batches in flight, one row a batch of 400 ms: the second waits 400 ms,
      // then runs 400 ms — 800 ms after it was sent, well within 600 ms of its own start.
      const stage = parallel.map(fixtures, { export: 'busyFor', threads: 1, batchBytes: 24, timeout: 600 });
      const sink = collect<unknown[]>();
      await run(range(3).map((i) => [i, 400]), stage, sink);
      expect(sink.rows).to.deep.equal(ids(3));
      expect(stage.stats.retried).to.equal(0);
    });

    it('with retries, a batch that hung runs again on a fresh worker: every row once, in order', async () => {
      const marker = dir.file(`hung-${Date.now()}`);
      const stage = parallel.map(fixtures, { export: 'hangOn', threads: 2, batchBytes: 40, retries: 1, timeout: 300 });
      const sink = collect<unknown[]>();
      const summary = await runAccounted(range(20).map((i) => [i, 7, marker]), stage, sink);
      expect(sink.rows).to.deep.equal(ids(20));
      expect(summary.written).to.equal(20);
      expect(stage.stats.retried).to.equal(1);
    });

    it('a worker out of memory under resourceLimits fails the stage naming the batch', async () => {
      const stage = parallel.map(fixtures, { export: 'exhaust', threads: 1, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
      const error = await rejectionOf(run(ids(3), stage, collect()));
      expect(error).to.be.instanceOf(WorkerError);
      expect(error.message).to.match(/failed on batch 1 \(rows 1-3\): .*memory/i);
      expect((error.cause as { code?: string }).code).to.equal('ERR_WORKER_OUT_OF_MEMORY');
    });

    it('a module without the export fails with a WorkerError saying so', async () => {
      const error = await rejectionOf(run(ids(2), parallel.map(fixtures, { export: 'nope', threads: 1 }), collect()));
      expect(error).to.be.instanceOf(WorkerError);
      expect(error.message).to.include('has no function export `nope` (found undefined)');
    });
  });

  describe('early stop', () => {
    it('an abort signal terminates the pool: in-flight rows stop, run() rejects with an AbortError', async () => {
      const channel = new Channel();
      try {
        const controller = new AbortController();
        const stage = parallel.map(fixtures, { export: 'held', threads: 2, batchBytes: 1 });
        const done = rejectionOf(run(range(10).map((i) => [i, channel.name]), stage, collect(), { signal: controller.signal }));
        await until(() => channel.started.length === 2, 'both workers busy');
        controller.abort();
        expect(await done).to.be.instanceOf(AbortError);
        expect(stage.closed).to.equal(true);
        expect(liveWorkers()).to.equal(0);
      } finally {
        channel.close();
      }
    });

    it('an abort while batches run under a timeout ends their workers and stops their timers', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
      // Timers left once run() has rejected, aborted with both workers busy: the control runs without a timeout.
      const leftAfterAbort = async (timeout?: number): Promise<number> => {
        const channel = new Channel();
        try {
          const controller = new AbortController();
          const stage = parallel.map(fixtures, { export: 'held', threads: 2, batchBytes: 1, ...(timeout ? { timeout } : {}) });
          const done = rejectionOf(run(range(10).map((i) => [i, channel.name]), stage, collect(), { signal: controller.signal }));
          await until(() => channel.started.length === 2, 'both workers busy');
          controller.abort();
          expect(await done).to.be.instanceOf(AbortError);
          expect(liveWorkers()).to.equal(0);
          return timers();
        } finally {
          channel.close();
        }
      };
      const control = await leftAfterAbort();
      expect(await leftAfterAbort(60_000), 'no timeout timer left').to.equal(control);
    });

    it('take(n) after it: n rows, the rest never run or counted as filtered, the pool closed', async () => {
      const sink = collect<number[]>();
      const summary = await runAccounted(new CountingSource(100_000, { row: (i) => [i] }), parallel.map<number[], number[]>(fixtures, { threads: 2, batchBytes: 64 }), take(5), sink);
      expect(sink.rows).to.deep.equal(range(5).map((i) => [i, i]));
      expect(summary.stoppedEarly).to.equal(true);
      expect(summary.written).to.equal(5);
    });

    it('for await … break over pipe() closes the stage and its workers', async () => {
      const stage = parallel.map<number[], number[]>(fixtures, { threads: 2, batchBytes: 32 });
      const seen: number[][] = [];
      for await (const row of pipe(new CountingSource(100_000, { row: (i) => [i] }), stage)) {
        seen.push(row as number[]);
        if (seen.length === 5) break;
      }
      await until(() => stage.closed, 'stage closed');
      expect(seen).to.deep.equal(range(5).map((i) => [i, i]));
      await until(() => liveWorkers() === 0, 'workers gone');
    });
  });

  describe('mainThread', () => {
    it('the main thread runs batches too once every worker has two: rows in order, each once, from both', async () => {
      // 2-row batches ([i, 2] counts 24 bytes); a worker takes 2 ms a row, the main thread none.
      const stage = parallel.map<number[], unknown[]>(fixtures, { export: 'whereRun', threads: 1, batchBytes: 48, mainThread: true });
      const sink = collect<unknown[]>();
      const summary = await runAccounted(range(200).map((i) => [i, 2]), stage, sink);
      expect(sink.rows.map((row) => row[0])).to.deep.equal(range(200));
      const where = new Set(sink.rows.map((row) => row[1]));
      expect([...where].sort()).to.deep.equal(['main', 'worker']);
      expect(stage.stats.mainBatches).to.be.within(1, stage.stats.batches - 1);
      expect(stage.stats.batches).to.equal(100);
      expect(counts(summary)).to.deep.equal({ read: 200, written: 200, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('differential: line rows whose results append, replace, change in place or throw equal an inline map', async () => {
      const { appendMostly } = await import('./fixtures/rows.js');
      const file = await dir.write('main-thread.csv', 'id,name,note\n' + range(600).map((i) => (i % 19 === 0 ? `${i},"q, ${i}",x` : `${i},n${i},x`)).join('\n') + '\n');
      const replaceWith = (row: string[]) => ['failed', row[0]!];
      const stage = parallel.map<string[], string[]>(fixtures, { export: 'appendMostly', threads: 1, batchBytes: 40, mainThread: true, onError: { replaceWith } });
      const threaded = collect<string[]>();
      await run(csv.read(file), stage, threaded);
      const inline = collect<string[]>();
      await run(csv.read(file), map(appendMostly, { onError: { replaceWith } }), inline);
      expect(threaded.rows).to.deep.equal(inline.rows);
      expect(threaded.rows.map((row) => originOf(row)?.line)).to.deep.equal(range(600, 2));
      expect(stage.stats.mainBatches, 'the main thread ran some').to.be.greaterThan(0);
    });

    it('a throw on the main thread is a RowError naming the row, its error the cause, after every row before it', async () => {
      const stage = parallel.map<number[], unknown[]>(fixtures, { export: 'whereRun', threads: 1, batchBytes: 48, mainThread: true });
      const sink = collect<unknown[]>();
      const error = await rejectionOf(run(range(200).map((i) => [i, 2, 20]), stage, sink));
      expect(error).to.be.instanceOf(RowError);
      const { row } = error as RowError;
      expect(error.message).to.equal(`parallel.map(rows.ts#whereRun) failed on row ${row}: id ${row} on the main thread`);
      expect((error.cause as Error).name).to.equal('RangeError');
      expect((error.cause as Error).stack).to.include('whereRun');
      expect(sink.rows.map((out) => out[0])).to.deep.equal(range(row - 1));
    });

    it('ordered: false: every row once, from both', async () => {
      const stage = parallel.map<number[], unknown[]>(fixtures, { export: 'whereRun', threads: 1, batchBytes: 48, mainThread: true, ordered: false });
      const sink = collect<unknown[]>();
      await run(range(200).map((i) => [i, 2]), stage, sink);
      expect(sink.rows.map((row) => row[0] as number).sort((a, b) => a - b)).to.deep.equal(range(200));
      expect(stage.stats.mainBatches).to.be.within(1, stage.stats.batches - 1);
    });

    it('an abort ends the workers and aborts the signal of the calls running on the main thread', async () => {
      const channel = new Channel();
      try {
        const controller = new AbortController();
        const stage = parallel.map(fixtures, { export: 'held', threads: 1, batchBytes: 1, mainThread: true });
        const done = rejectionOf(run(range(10).map((i) => [i, channel.name]), stage, collect(), { signal: controller.signal }));
        await until(() => channel.started.length === 3, 'the worker and the main thread busy');
        controller.abort();
        expect(await done).to.be.instanceOf(AbortError);
        expect(liveWorkers()).to.equal(0);
        // The two calls on the main thread see their signal aborted (the worker's ended with its thread).
        await until(() => channel.aborted.length === 2, 'the main thread\'s calls aborted');
        expect(channel.aborted.every((id) => channel.started.includes(id))).to.equal(true);
      } finally {
        channel.close();
      }
    });

    it('at most threads × 2 batches at the workers and 2 more on the main thread; the source stops', async () => {
      const channel = new Channel();
      const [hs, h, threads] = [2, 3, 1];
      const source = new CountingSource(10_000, { highWaterMark: hs, row: (i) => [i, channel.name] });
      const stage = parallel.map(fixtures, { export: 'held', threads, batchBytes: 1, highWaterMark: h, mainThread: true });
      const sink = new StalledSink();
      try {
        pipeline(source, stage, sink, () => {});
        await until(() => channel.started.length === threads + 2, 'the worker and the main thread busy');
        const pulled = await quiesce(() => source.pulled);
        // threads × 2 one-row batches at the worker (one running), 2 running on the main thread,
        // then at most the stage's input buffer and the source's (how full they are depends on
        // when the main thread had loaded the module).
        expect(pulled).to.be.within(threads * 2 + 2, threads * 2 + 2 + (h - 1) + hs);
        expect(stage.writableLength, 'the last write is held').to.be.at.least(1);
        expect(channel.started.length, 'one batch at the worker at a time').to.equal(threads + 2);
        expect(stage.stats.batches).to.equal(0);
      } finally {
        await destroyAll(source, stage, sink);
        channel.close();
      }
    });
  });

  describe('stats', () => {
    it('reports the function cost against the transfer cost, and says when inline would be faster', async () => {
      const stage = parallel.map(fixtures, { threads: 1, batchBytes: 256 });
      await runAccounted(ids(2_000), stage, collect());
      const { stats } = stage;
      expect(stats.rowsRun).to.equal(2_000);
      expect(stats.timedRows).to.be.greaterThan(0);
      expect(stats.fnMicrosPerRow).to.be.greaterThan(0);
      // Appending one value is far cheaper than a trip to another thread.
      expect(stats.inlineFaster).to.equal(true);
      expect(stats.advice).to.match(/^the function costs [\d.]+ µs a row but moving a row to a worker and back costs [\d.]+ µs: map\(\) inline would likely be faster$/);
    });
  });
});
