import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RowError, csv, map, pipe, run, take } from '../../lib/index.js';
import { numberedCsv, openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';
import {
  CountingSource,
  StalledSink,
  closed,
  collect,
  counts,
  destroyAll,
  destroyMidStream,
  expectAccounted,
  ignoresBackpressure,
  measureHeld,
  pipelineResult,
  range,
  failsDownstream,
  rejectionOf,
  expectTypeErrors,
  expectHighWaterMarks,
  trackedGenerator,
  until,
  runAccounted,
} from '../helpers/streams.js';

describe('take()', () => {
  describe('behaviour', () => {
    it('passes the first n rows; run() resolves normally with stoppedEarly, the generator closed', async () => {
      const gen = trackedGenerator();
      const sink = collect<number>();
      const summary = await runAccounted(gen.source, take(5), sink);
      expect(sink.rows).to.deep.equal([1, 2, 3, 4, 5]);
      expect(gen.state.finallyRan, "the generator's finally ran").to.equal(true);
      expect(counts(summary)).to.deep.equal({ read: 5, written: 5, filtered: 0, rejected: 0, stoppedEarly: true });
      expectAccounted(summary);
    });

    it('stops a Readable source: it is destroyed after one row read ahead', async () => {
      const source = new CountingSource(10_000, { highWaterMark: 4 });
      const stage = take(20);
      const summary = await runAccounted(source, stage, collect());
      expect(source.destroyed).to.equal(true);
      expect(summary.read).to.equal(20);
      // One row pulled past the limit (a Readable reads one ahead of a flowing consumer),
      // dropped with the source's buffer; nothing more.
      expect(source.pulled).to.equal(21);
      expect(summary.stoppedEarly).to.equal(true);
      expectAccounted(summary);
    });

    it('rows in flight behind the limit are dropped and counted as filtered', async () => {
      // A source that pushes 64 rows per read puts rows in flight past the limit.
      const source = new CountingSource(10_000, { highWaterMark: 64, burst: 64 });
      const sink = collect<number>();
      const limit = take(3);
      const before = map(async (x: number) => x, { concurrency: 8 });
      const summary = await runAccounted(source, before, limit, sink);
      expect(sink.rows).to.deep.equal([1, 2, 3]);
      // The map drops what it still holds (see the next tests); take, what already left it.
      expect(before.stats.filtered).to.be.greaterThan(0);
      expect(limit.stats.filtered).to.equal(limit.stats.in - 3);
      expect(summary.filtered).to.equal(before.stats.filtered + limit.stats.filtered);
      expect(summary.stoppedEarly).to.equal(true);
      expect(source.destroyed).to.equal(true);
      expectAccounted(summary);
    });

    it('with fewer rows than n, passes them all and does not stop early', async () => {
      const sink = collect<number>();
      const summary = await runAccounted(range(3), take(10), sink);
      expect(sink.rows).to.deep.equal([1, 2, 3]);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('take(0) passes nothing and stops at once', async () => {
      const gen = trackedGenerator();
      const sink = collect();
      const summary = await runAccounted(gen.source, take(0), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(gen.state.yielded).to.equal(0);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: true });
    });

    it('handles empty input', async () => {
      const summary = await runAccounted([], take(3), collect());
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it("emits 'stop' once, when the limit is reached", async () => {
      const stage = take(2);
      let stops = 0;
      let outAtStop = -1;
      stage.on('stop', () => {
        stops++;
        outAtStop = stage.stats.out;
      });
      await runAccounted(range(10), stage, collect());
      expect([stops, outAtStop]).to.deep.equal([1, 2]);
    });

    it('in a bare stream.pipeline take stops the source itself: nothing past what was buffered is read, no error', async () => {
      const source = new CountingSource(100);
      const stage = take(2);
      const sink = collect<number>();
      expect(await pipelineResult(source, stage, sink)).to.equal(null);
      expect(sink.rows).to.deep.equal([1, 2]);
      expect(source.pulled).to.be.below(100);
      expect(source.destroyed).to.equal(true);
      expect(stage.stats).to.deep.equal({ in: 2, out: 2, filtered: 0, rejected: 0 });
    });

    it('pipe() ends after n rows, and the generator is closed', async () => {
      const gen = trackedGenerator();
      const stage = take(4);
      const seen: number[] = [];
      for await (const row of pipe(gen.source, stage)) seen.push(row);
      expect(seen).to.deep.equal([1, 2, 3, 4]);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });

    for (const via of ['run', 'pipe'] as const) {
      it(`${via}(): rows in flight past the limit reach no function before take, and a call that would fail on one does not fail the pipeline`, async () => {
        // The async map has rows 1–5 in flight at once; take(3) has its rows before 4 and 5
        // come out of it. Before, map(check) was called on 4 and 5 and failed the run on 5.
        const called: number[] = [];
        const check = map((n: number) => {
          called.push(n);
          if (n === 5) throw new Error('row 5 is bad');
          return n;
        });
        const first = map(async (n: number) => n, { concurrency: 5 });
        const stages = [Array.from({ length: 1000 }, (_, i) => i + 1), first, check, take(3)] as const;
        let rows: number[];
        if (via === 'run') {
          const sink = collect<number>();
          const summary = await run(...stages, sink);
          expect(summary).to.deep.include({ written: 3, rejected: 0, stoppedEarly: true });
          expect(summary.read).to.equal(summary.written + summary.filtered);
          rows = sink.rows;
        } else {
          rows = [];
          for await (const row of pipe(...stages)) rows.push(row as number);
        }
        expect(rows).to.deep.equal([1, 2, 3]);
        expect(called).to.deep.equal([1, 2, 3]);
        expect(first.stats.in).to.be.above(3); // they were in flight
        expect(check.stats.filtered).to.equal(check.stats.in - 3);
      });
    }
  });

  describe('options', () => {
    it('highWaterMark: 16 on both sides by default, else as given (the options object unchanged); named take(n)', () => {
      expectHighWaterMarks((options) => take(1, options), 3);
      expect(take(1).stage).to.equal('take(1)');
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => take(-1), 'take(): expected `count` to be an integer from 0 and up, got `-1` (number)'],
        [() => take(1.5), 'take(): expected `count` to be an integer from 0 and up, got `1.5` (number)'],
        [() => take('3' as never), 'take(): expected `count` to be an integer from 0 and up, got `3` (string)'],
        [() => take(Infinity), 'take(): expected `count` to be an integer from 0 and up, got `Infinity` (number)'],
        [() => take(1, null as never), 'take(): expected `options` to be an object, got `null`'],
        [() => take(1, { highWaterMark: 0 }), 'take(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
        [() => take(1, { highWatermark: 4 } as never), "take(): unknown option 'highWatermark' (did you mean 'highWaterMark'?)"],
      ];
      expectTypeErrors(cases);
    });
  });

  describe('backpressure', () => {
    const bound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    it('before the limit, stalled consumer: pulls exactly hs + 2h - 1 + hk rows', async () => {
      const held = await measureHeld(take(1_000, { highWaterMark: 3 }), { sourceHighWaterMark: 2, sinkHighWaterMark: 2 });
      expect(held.inSink).to.equal(2);
      expect(held.pulled).to.equal(bound(2, 3, 2));
    });

    it('reaching the limit under run() stops reading even while the consumer is stalled', async () => {
      const source = new CountingSource(10_000, { highWaterMark: 2 });
      const sink = new StalledSink();
      const done = rejectionOf(run(source, take(3, { highWaterMark: 4 }), sink));
      await closed(source);
      // Row 4 was already pulled (a Readable reads one ahead of a flowing consumer) and
      // is dropped with the source; nothing after it.
      expect(source.pulled).to.equal(3 + 1);
      const pulled = source.pulled;
      await destroyAll(sink);
      await done;
      expect(source.pulled).to.equal(pulled);
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(3), { sourceHighWaterMark: 2, sinkHighWaterMark: 2, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(2, 3, 2));
    });
  });

  describe('errors', () => {
    it('a stage after take failing on its first row: RowError, every stage closed, the source released', async () => {
      const gen = trackedGenerator();
      expect(await failsDownstream(gen.source, take(10), 1)).to.deep.equal([]);
      expect(gen.state.finallyRan).to.equal(true);
    });

    it('a stage after take failing on a middle row: earlier rows delivered', async () => {
      expect(await failsDownstream(range(10), take(5), 3)).to.deep.equal([1, 2]);
    });

    it('a source that fails before the limit fails run() with its error; take closes', async () => {
      const failure = new Error('disk gone');
      const source = new Readable({
        objectMode: true,
        read() {
          this.destroy(failure);
        },
      });
      const stage = take(5);
      const error = await rejectionOf(run(source, stage, collect()));
      expect(error).to.equal(failure);
      expect(stage.closed).to.equal(true);
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events, error } = await destroyMidStream(take(500));
      expect(error?.message).to.equal('Premature close');
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break before the limit runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = take(100);
      for await (const row of pipe(gen.source, stage)) {
        if (row === 2) break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
      expect(gen.state.yielded).to.be.below(100);
    });
  });

  describe('in a plain stream.pipeline (no run())', () => {
    const sinkOf = (rows: unknown[]) => new Writable({ objectMode: true, write(row, _e, cb) { rows.push(row); cb(); } });

    it('an endless synchronous Readable: ends after n rows, no error (before: never ended, the event loop blocked)', async () => {
      const rows: unknown[] = [];
      let reads = 0;
      const source = new Readable({ objectMode: true, read() { this.push({ n: ++reads }); } });
      await pipeline(source, take(3), sinkOf(rows));
      expect(rows).to.deep.equal([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(source.destroyed).to.equal(true);
      expect(reads).to.be.below(100); // what the buffers held when the limit was reached, no more
    });

    it('an endless generator: ends after n rows and its finally runs', async () => {
      let finallyRan = false;
      const rows: unknown[] = [];
      const source = Readable.from((function* () {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          finallyRan = true;
        }
      })());
      await pipeline(source, take(3), sinkOf(rows));
      expect(rows).to.deep.equal([0, 1, 2]);
      expect(finallyRan).to.equal(true);
    });

    describe('a csv.read source (a Duplex that reads its own file)', () => {
      let dir: TempDir;
      let big: string;
      const rowCount = 400_000;
      before(async () => {
        dir = await tempDir('sluice-take-');
        big = await dir.write('big.csv', numberedCsv(rowCount)); // ~7 MB
      });
      after(() => dir.remove());

      it('ends after n rows: one chunk read of a 7 MB file, the file closed when pipeline resolves, no error (before: read to its end)', async () => {
        const rows: unknown[] = [];
        const source = csv.read(big);
        await pipeline(source as Readable, take(3), sinkOf(rows));
        expect(rows).to.deep.equal([['1', 'name1'], ['2', 'name2'], ['3', 'name3']]);
        expect(source.bytesIn).to.equal(65_536); // the first chunk only, of ~7 MB
        expect(source.destroyed).to.equal(true);
        expect(openFilesUnder(dir.path)).to.deep.equal([]);
      });

      it('rows: objects, take(0) and a limit past the first chunk end the same way; timers keep firing meanwhile', async () => {
        let ticks = 0;
        const timer = setInterval(() => ticks++, 0);
        try {
          for (const [count, chunks] of [[0, 0], [5000, 2], [20_000, 6]] as const) {
            const rows: unknown[] = [];
            const source = csv.read(big, { rows: 'objects' });
            await pipeline(source as Readable, take(count), sinkOf(rows));
            expect(rows.length).to.equal(count);
            if (count > 0) expect(rows[count - 1]).to.deep.equal({ id: String(count), name: `name${count}` });
            expect(source.bytesIn).to.be.at.most(chunks * 65_536);
            expect(openFilesUnder(dir.path)).to.deep.equal([]);
          }
        } finally {
          clearInterval(timer);
        }
        expect(ticks).to.be.above(0);
      });

      it('a Duplex between source and take (map) is still read to its end, without error (documented: use run())', async () => {
        const rows: unknown[] = [];
        const source = csv.read(big);
        const seen = { n: 0 };
        await pipeline(source as Readable, map((row: string[]) => (seen.n++, row)), take(2), sinkOf(rows));
        expect(rows).to.have.length(2);
        expect(seen.n).to.equal(rowCount);
      });
    });

    it('take(0): nothing passes and the source is released', async () => {
      const rows: unknown[] = [];
      const source = Readable.from((async function* () { for (;;) yield 1; })());
      await pipeline(source, take(0), sinkOf(rows));
      expect(rows).to.deep.equal([]);
      expect(source.destroyed).to.equal(true);
    });
  });
});
