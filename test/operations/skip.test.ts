import { expect } from 'chai';
import { Readable } from 'node:stream';
import { RowError, pipe, run, skip } from '../../lib/index.js';
import {
  closed,
  collect,
  counts,
  destroyMidStream,
  expectAccounted,
  ignoresBackpressure,
  measureHeld,
  range,
  failsDownstream,
  rejectionOf,
  expectTypeErrors,
  expectHighWaterMarks,
  trackedGenerator,
  until,
  runAccounted,
} from '../helpers/streams.js';

describe('skip()', () => {
  describe('behaviour', () => {
    it('drops the first n rows, counted as filtered, and passes the rest in order', async () => {
      const stage = skip(3);
      const sink = collect<number>();
      const summary = await runAccounted(range(10), stage, sink);
      expect(sink.rows).to.deep.equal([4, 5, 6, 7, 8, 9, 10]);
      expect(stage.stats).to.deep.equal({ in: 10, out: 7, filtered: 3, rejected: 0 });
      expect(counts(summary)).to.deep.equal({ read: 10, written: 7, filtered: 3, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('skip(0) passes every row', async () => {
      const sink = collect<number>();
      const summary = await runAccounted(range(5), skip(0), sink);
      expect(sink.rows).to.deep.equal(range(5));
      expectAccounted(summary);
    });

    it('skipping more rows than there are passes nothing and still finishes', async () => {
      const sink = collect();
      const summary = await runAccounted(range(3), skip(10), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(sink.writableFinished).to.equal(true);
      expect(counts(summary)).to.deep.equal({ read: 3, written: 0, filtered: 3, rejected: 0, stoppedEarly: false });
    });

    it('handles empty input; names itself after the count', async () => {
      const stage = skip(2);
      expect(stage.stage).to.equal('skip(2)');
      expect(counts(await runAccounted([], stage, collect()))).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('passes the very same row objects', async () => {
      const rows = [{ a: 1 }, { a: 2 }];
      const sink = collect();
      await runAccounted(rows, skip(1), sink);
      expect(sink.rows[0]).to.equal(rows[1]);
    });
  });

  describe('options', () => {
    it('highWaterMark: 16 on both sides by default, else as given (the options object unchanged)', () => {
      expectHighWaterMarks((options) => skip(1, options), 2);
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => skip(-1), 'skip(): expected `count` to be an integer from 0 and up, got `-1` (number)'],
        [() => skip(0.5), 'skip(): expected `count` to be an integer from 0 and up, got `0.5` (number)'],
        [() => skip(undefined as never), 'skip(): expected `count` to be an integer from 0 and up, got `undefined` (undefined)'],
        [() => skip(1, 'x' as never), 'skip(): expected `options` to be an object, got `x` (string)'],
        [() => skip(1, { highWaterMark: -4 }), 'skip(): expected `highWaterMark` to be an integer from 1 and up, got `-4` (number)'],
      ];
      expectTypeErrors(cases);
    });
  });

  describe('backpressure', () => {
    // The skipped rows take no room: the bound of a sync stage, plus n.
    const bound = (hs: number, h: number, hk: number, n: number) => hs + (h - 1) + h + hk + n;

    for (const n of [0, 7]) {
      it(`skip(${n}), stalled consumer: pulls exactly hs + 2h - 1 + hk + ${n} rows`, async () => {
        const held = await measureHeld(skip(n, { highWaterMark: 3 }), { sourceHighWaterMark: 2, sinkHighWaterMark: 1 });
        expect(held.pulled).to.equal(bound(2, 3, 1, n));
      });
    }

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(3), { sourceHighWaterMark: 2, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(2, 3, 1, 7));
    });
  });

  describe('errors', () => {
    it('a stage after skip failing on its first row: RowError; every stage closed; source released', async () => {
      const gen = trackedGenerator();
      expect(await failsDownstream(gen.source, skip(2), 1)).to.deep.equal([]);
      expect(gen.state.finallyRan).to.equal(true);
    });

    it('a stage after skip failing on a middle row: earlier rows delivered', async () => {
      expect(await failsDownstream(range(10), skip(2), 3)).to.deep.equal([3, 4]);
    });

    it('a failing source fails run() with its error; skip closes', async () => {
      const failure = new Error('source broke');
      let n = 0;
      const source = new Readable({
        objectMode: true,
        read() {
          if (++n === 4) this.destroy(failure);
          else this.push(n);
        },
      });
      const stage = skip(1);
      const sink = collect();
      expect(await rejectionOf(run(source, stage, sink))).to.equal(failure);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(skip(1));
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = skip(5);
      for await (const row of pipe(gen.source, stage)) {
        expect(row).to.equal(6);
        break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
