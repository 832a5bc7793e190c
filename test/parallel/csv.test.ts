import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { AbortError, CsvError, RowError, WorkerError, csv, map, parallel, run, take, type Reject } from '../../lib/index.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { StalledSink, collect, counts, destroyAll, expectTypeErrors, rejectionOf, runAccounted } from '../helpers/streams.js';
import { keyCsv } from './fixtures/rows.js';
import { countBaseline, liveWorkers, stable, until } from './threads.js';

const fixtures = fileURLToPath(new URL('./fixtures/rows.ts', import.meta.url));

/**
 * `count` rows `id,name,note` from a seed: quoted fields with commas, doubled quotes and
 * (every `breakEvery`-th row, 0: none) a line break, so a row's line differs from its number.
 */
function generated(count: number, seed: number, breakEvery = 0): string {
  let text = 'id,name,note\n';
  let state = seed;
  const next = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let id = 1; id <= count; id++) {
    const word = `w${next() % 1000}`;
    const note = breakEvery > 0 && id % breakEvery === 0 ? `"line one\nline ""two"", ${word}"` : next() % 3 === 0 ? `"a, ${word}"` : word;
    text += `${id},name ${word},${note}\n`;
  }
  return text;
}

async function rowsOf<T>(source: AsyncIterable<unknown>): Promise<T[]> {
  const rows: T[] = [];
  for await (const row of source) rows.push(row as T);
  return rows;
}

describe('parallel.csv()', function () {
  this.timeout(60_000);
  let dir: TempDir;
  before(async () => {
    countBaseline();
    dir = await tempDir('sluice-parallel-csv-');
  });
  after(() => dir.remove());
  afterEach(() => expect(liveWorkers(), 'no worker thread outlives its stage').to.equal(0));

  describe('behaviour', () => {
    it('gives the rows csv.read → parallel.map and an inline map give, in file order, on generated files', async () => {
      for (const [count, seed, rangeBytes] of [[3_000, 1, 4_096], [500, 2, 100], [40, 3, 1_000_000]] as const) {
        const file = await dir.write(`plain-${seed}.csv`, generated(count, seed));
        const stage = parallel.csv<string[]>(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes });
        const sink = collect<string[]>();
        const summary = await runAccounted(stage, sink);
        const viaMap = await rowsOf(csv.read(file).pipe(parallel.map(fixtures, { export: 'keyCsv', threads: 2 })));
        const inline = await rowsOf(csv.read(file).pipe(map(keyCsv)));
        expect(sink.rows, `${count} rows, ranges of ${rangeBytes} bytes`).to.deep.equal(inline);
        expect(sink.rows).to.deep.equal(viaMap);
        expect(counts(summary)).to.deep.equal({ read: count, written: count, filtered: 0, rejected: 0, stoppedEarly: false });
        expect(stage.headers).to.deep.equal(['id', 'name', 'note']);
        expect(stage.stats.rowsRun).to.equal(count);
        expect(stage.stats.batches, 'ranges run').to.equal(rangeBytes === 1_000_000 ? 1 : Math.ceil((await import('node:fs')).statSync(file).size / rangeBytes));
      }
      expect(parallel.csv('x.csv', fixtures, { export: 'keyCsv' }).stage).to.equal('parallel.csv(rows.ts#keyCsv)');
    });

    it('reads object rows and headerless files with csv.read options', async () => {
      const file = await dir.write('objects.csv', generated(400, 4));
      const objects = collect<Record<string, string>>();
      await runAccounted(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000, csv: { rows: 'objects' } }), objects);
      expect(objects.rows).to.deep.equal(await rowsOf(csv.read(file, { rows: 'objects' }).pipe(map(keyCsv))));
      expect(objects.rows[0]).to.have.keys(['id', 'name', 'note', 'key']);
      const headerless = collect<string[]>();
      await runAccounted(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000, csv: { header: false, delimiter: ',' } }), headerless);
      expect(headerless.rows).to.deep.equal(await rowsOf(csv.read(file, { header: false }).pipe(map(keyCsv))));
      expect(headerless.rows[0].slice(0, 3)).to.deep.equal(['id', 'name', 'note']);
    });

    it("follows quoted line breaks with quotedLineBreaks: 'follow', and refuses a cut inside one by default, as csv.split does", async () => {
      const file = await dir.write('breaks.csv', generated(1_000, 5, 3));
      const sink = collect<string[]>();
      await runAccounted(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 1_500, csv: { quotedLineBreaks: 'follow' } }), sink);
      expect(sink.rows).to.deep.equal(await rowsOf(csv.read(file).pipe(map(keyCsv))));
      const planned = await rejectionOf(csv.split(file).plan(Math.ceil((await import('node:fs')).statSync(file).size / 1_500)));
      const refused = await rejectionOf(run(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 1_500 }), collect()));
      expect(refused).to.be.instanceOf(CsvError);
      expect(refused.message).to.equal(planned.message);
      expect(refused.message).to.include("falls on a line break inside a quoted field");
    });

    it('handles an empty file and a header-only file', async () => {
      for (const text of ['', 'id,name,note\n']) {
        const file = await dir.write('empty.csv', text);
        const sink = collect();
        const summary = await runAccounted(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2 }), sink);
        expect(summary.read, JSON.stringify(text)).to.equal(0);
      }
    });
  });

  describe('options', () => {
    it('rejects invalid options before any thread starts', () => {
      expectTypeErrors([
        [() => parallel.csv('', fixtures), 'parallel.csv(): expected `file` to be a path, got `` (string)'],
        [() => parallel.csv('a.csv', fixtures, { rangeBytes: 0 }), 'parallel.csv(): expected `rangeBytes` to be an integer from 1 and up, got `0` (number)'],
        [() => parallel.csv('a.csv', fixtures, { threads: 0 }), 'parallel.csv(): expected `threads` to be an integer from 1 and up, got `0` (number)'],
        [() => parallel.csv('a.csv', fixtures, { batchBytes: 10 } as never), "parallel.csv(): unknown option 'batchBytes' (known: 'export', 'threads', 'onError', 'retries', 'resourceLimits', 'highWaterMark', 'timeout', 'csv', 'rangeBytes')"],
        [() => parallel.csv('a.csv', fixtures, { csv: { ragged: 'reject' } }), "parallel.csv(): expected `csv.ragged` to be 'fail' or 'keep' (the workers parse; they cannot store rejects), got `reject` (string)"],
        [() => parallel.csv('a.csv', fixtures, { csv: { delimiter: ';;' } }), 'parallel.csv(): expected `delimiter` to be a single ASCII character (byte-range splits scan bytes), got `;;` (string)'],
      ]);
      expect(liveWorkers()).to.equal(0);
    });
  });

  describe('backpressure', () => {
    it('keeps at most threads × 2 ranges out while the consumer is stalled, and that many are reached', async () => {
      const file = await dir.write('stalled.csv', generated(6_000, 6));
      const stage = parallel.csv<string[]>(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000 });
      const sink = new StalledSink<string[]>();
      const running = run(stage, sink);
      try {
        let most = 0;
        await until(() => stage.stats.batches > 0, 'first results');
        await stable(() => {
          most = Math.max(most, stage.rangesInFlight);
          return stage.stats.batches;
        });
        // The window is full of done ranges, and no more start: a few more have left into the buffers downstream.
        expect(stage.rangesInFlight).to.equal(4);
        expect(most).to.equal(4);
        expect(stage.stats.batches).to.be.below(10);
        expect(stage.stats.rowsRun).to.be.below(6_000 / 4);
      } finally {
        await destroyAll(stage, sink);
        await running.catch(() => undefined);
      }
      await until(() => liveWorkers() === 0, 'workers gone');
    });
  });

  describe('errors', () => {
    it("fails with a RowError naming the row's number and real file line, after the rows before it, as csv.read → parallel.map does", async () => {
      const file = await dir.write('fails.csv', generated(60, 7, 2));
      const sink = collect<string[]>();
      const error = await rejectionOf(run(parallel.csv(file, fixtures, { export: 'failOnSeven', threads: 2, rangeBytes: 200, csv: { quotedLineBreaks: 'follow' } }), sink));
      const reference = await rejectionOf(run(csv.read(file), parallel.map(fixtures, { export: 'failOnSeven', threads: 2 }), collect()));
      expect(error).to.be.instanceOf(RowError);
      // Row 7 starts on line 11: the even rows before it span two lines each.
      expect(error.message).to.match(/^parallel\.csv\(rows\.ts#failOnSeven\) failed on row 7 \(.*fails\.csv, line 11\): seven is name w\d+$/);
      expect(error.message.replace('parallel.csv', '')).to.equal(reference.message.replace('parallel.map', ''));
      expect((error.cause as Error).stack).to.include('RangeError: seven is');
      expect(sink.rows.map((row) => row[0])).to.deep.equal(['1', '2', '3', '4', '5', '6']);
    });

    it("sends a failing row to the rejects with onError: 'reject', with its line", async () => {
      const file = await dir.write('rejects.csv', generated(30, 8));
      const rejects: Reject[] = [];
      const sink = collect<string[]>();
      const summary = await run(parallel.csv(file, fixtures, { export: 'failOnSeven', threads: 2, rangeBytes: 100, onError: 'reject' }), sink, { rejects: (r) => void rejects.push(r) });
      expect(counts(summary)).to.deep.equal({ read: 30, written: 29, filtered: 0, rejected: 1, stoppedEarly: false });
      expect(rejects.map((r) => [r.index, r.origin?.line, (r.row as string[])[0]])).to.deep.equal([[7, 8, '7']]);
      expect(sink.rows.map((row) => row[0])).to.deep.equal(Array.from({ length: 30 }, (_, i) => String(i + 1)).filter((id) => id !== '7'));
    });

    it('fails with the CsvError csv.read gives for invalid CSV in a later range, after the rows before it', async () => {
      const file = await dir.write('invalid.csv', `${generated(200, 9)}201,"never closed\n`);
      const sink = collect<string[]>();
      const error = await rejectionOf(run(parallel.csv(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 500 }), sink));
      const reference = await rejectionOf(run(csv.read(file), collect()));
      expect(error).to.be.instanceOf(CsvError);
      expect(error.message).to.equal(reference.message);
      expect(sink.rows.length).to.equal(200);
    });

    it('fails with a WorkerError naming the range when a worker dies, also after retries', async () => {
      const file = await dir.write('dies.csv', generated(20, 10));
      for (const retries of [0, 1]) {
        const error = await rejectionOf(run(parallel.csv(file, fixtures, { export: 'exitOnFive', threads: 1, retries }), collect()));
        expect(error).to.be.instanceOf(WorkerError);
        const again = retries === 1 ? ' after 2 attempts' : '';
        expect(error.message).to.match(new RegExp(`^parallel\\.csv\\(rows\\.ts#exitOnFive\\) failed on range 1 of 1 \\(bytes 0-\\d+, from .*dies\\.csv line 1\\)${again}: worker exited with code: 4$`));
      }
    });

    it('fails with a WorkerError when the module has no such export', async () => {
      const file = await dir.write('no-export.csv', generated(5, 11));
      const error = await rejectionOf(run(parallel.csv(file, fixtures, { export: 'missing', threads: 1 }), collect()));
      expect(error).to.be.instanceOf(WorkerError);
      expect(error.message).to.include('has no function export `missing` (found undefined)');
    });
  });

  describe('early destroy', () => {
    it('stops at take(n) and terminates every worker', async () => {
      const file = await dir.write('take.csv', generated(5_000, 12));
      const stage = parallel.csv<string[]>(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000 });
      const sink = collect<string[]>();
      const summary = await run(stage, take(10), sink);
      expect(sink.rows).to.deep.equal((await rowsOf<string[]>(csv.read(file).pipe(map(keyCsv)))).slice(0, 10));
      expect(summary.stoppedEarly).to.equal(true);
      expect(stage.stats.rowsRun).to.be.below(5_000);
      expect(liveWorkers()).to.equal(0);
    });

    it('an abort rejects with an AbortError and terminates every worker', async () => {
      const file = await dir.write('abort.csv', generated(5_000, 13));
      const stage = parallel.csv<string[]>(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000 });
      const controller = new AbortController();
      const sink = new StalledSink<string[]>();
      const running = run(stage, sink, { signal: controller.signal });
      await until(() => stage.stats.batches > 0, 'first results');
      controller.abort();
      expect(await rejectionOf(running)).to.be.instanceOf(AbortError);
      expect(liveWorkers()).to.equal(0);
    });

    it('a for await that breaks closes the stage and its workers', async () => {
      const file = await dir.write('break.csv', generated(3_000, 14));
      const stage = parallel.csv<string[]>(file, fixtures, { export: 'keyCsv', threads: 2, rangeBytes: 2_000 });
      let seen = 0;
      for await (const _row of stage) if (++seen === 5) break;
      await until(() => stage.closed, 'stage closed');
      await until(() => liveWorkers() === 0, 'workers gone');
      expect(seen).to.equal(5);
    });
  });
});
