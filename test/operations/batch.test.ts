import { expect } from 'chai';
import { Readable, Transform, pipeline } from 'node:stream';
import { RowError, batch, flatten, map, pipe, run, take } from '../../lib/index.js';
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
  quiesce,
  range,
  failsDownstream,
  rejectionOf,
  expectTypeErrors,
  trackedGenerator,
  until,
} from '../helpers/streams.js';

describe('batch()', () => {
  describe('behaviour', () => {
    it('groups rows into arrays of size, in order; the last partial batch comes at the end', async () => {
      const stage = batch<number>(3);
      const sink = collect<number[]>();
      const summary = await run(range(8), stage, sink);
      expect(sink.rows).to.deep.equal([[1, 2, 3], [4, 5, 6], [7, 8]]);
      expect(stage.stats).to.deep.equal({ in: 8, out: 3, filtered: 0, rejected: 0 });
      // Not 1:1: written counts batches.
      expect(counts(summary)).to.deep.equal({ read: 8, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('never emits an empty batch: an exact multiple ends with a full one', async () => {
      const sink = collect<number[]>();
      await run(range(6), batch(3), sink);
      expect(sink.rows).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
    });

    it('empty input gives no batch at all', async () => {
      const sink = collect();
      const summary = await run([], batch(5), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('batch(1) wraps each row; each batch is a new array holding the same row objects', async () => {
      const rows = [{ a: 1 }, { a: 2 }];
      const sink = collect<object[]>();
      await run(rows, batch(1), sink);
      expect(sink.rows).to.deep.equal([[{ a: 1 }], [{ a: 2 }]]);
      expect(sink.rows[0][0]).to.equal(rows[0]);
      expect(sink.rows[0]).to.not.equal(sink.rows[1]);
    });

    it('batch then flatten is 1:1: every row accounted for, order kept', async () => {
      const sink = collect<number>();
      const summary = await run(range(1_001), batch(100), map(async (rows: number[]) => rows), flatten(), sink);
      expect(sink.rows).to.deep.equal(range(1_001));
      expect(counts(summary)).to.deep.equal({ read: 1_001, written: 1_001, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('before a take(n): once take has its batches, no sizeOf call and no batch for the rows past the limit', async () => {
      const sized: number[] = [];
      const stage = batch(3, { maxBytes: 1_000, sizeOf: (row: number) => (sized.push(row), 1) });
      const sink = collect<number[]>();
      // A user's Transform (not a sluice stage) holds rows when take stops the source: they
      // still reach batch.
      const holding = new Transform({ objectMode: true, highWaterMark: 32, transform: (row, _e, cb) => void setImmediate(cb, null, row) });
      const summary = await run(range(1_000), holding, stage, take(2), sink);
      expect(sink.rows).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
      expect(sized).to.deep.equal(range(6));
      expect(summary.stoppedEarly).to.equal(true);
      expect(stage.stats.out).to.equal(2);
      expect(stage.stats.filtered).to.equal(stage.stats.in - 6);
    });

    it('names itself after its size', () => {
      expect(batch(500).stage).to.equal('batch(500)');
    });
  });

  describe('options', () => {
    it('defaults: 1 batch on the readable side, 16 rows on the writable side', () => {
      const stage = batch(10);
      expect(stage.readableHighWaterMark).to.equal(1);
      expect(stage.writableHighWaterMark).to.equal(16);
      expect([stage.readableObjectMode, stage.writableObjectMode]).to.deep.equal([true, true]);
      stage.destroy();
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => batch(0), 'batch(): expected `size` to be an integer from 1 and up, got `0` (number)'],
        [() => batch(2.5), 'batch(): expected `size` to be an integer from 1 and up, got `2.5` (number)'],
        [() => batch('10' as never), 'batch(): expected `size` to be an integer from 1 and up, got `10` (string)'],
        [() => batch(undefined as never), 'batch(): expected `size` to be an integer from 1 and up, got `undefined` (undefined)'],
        [() => batch(10, null as never), 'batch(): expected `options` to be an object, got `null`'],
        [() => batch(10, { highWaterMark: 0 }), 'batch(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
      ];
      expectTypeErrors(cases);
    });

    it('highWaterMark counts batches on the readable side; the options object is not changed', () => {
      const options = Object.freeze({ highWaterMark: 4 });
      const stage = batch(10, options);
      expect(stage.readableHighWaterMark).to.equal(4);
      expect(stage.writableHighWaterMark).to.equal(16);
      expect(options).to.deep.equal({ highWaterMark: 4 });
      stage.destroy();
    });
  });

  describe('backpressure', () => {
    // Stalled: the source's buffer (hs rows), the stage's input buffer (16 rows, one of
    // them the row that completed the batch whose push filled the output: 15 others),
    // hb full batches in the output and hk batches at the stalled sink. The partial batch
    // is empty at that point.
    const bound = (hs: number, size: number, hb: number, hk: number) => hs + 15 + size * (hb + hk);

    for (const [hs, size, hb, hk] of [[3, 5, 2, 1], [1, 500, 1, 1], [2, 4, 3, 2]]) {
      it(`stalled consumer (source ${hs}, size ${size}, highWaterMark ${hb}, sink ${hk}): pulls exactly ${bound(hs, size, hb, hk)} rows`, async () => {
        const held = await measureHeld(batch(size, { highWaterMark: hb }), { sourceHighWaterMark: hs, sinkHighWaterMark: hk, total: 100_000 });
        expect(held.inSink).to.equal(hk);
        expect(held.pulled).to.equal(bound(hs, size, hb, hk));
      });
    }

    it('slow consumer acknowledging one batch at a time: rows pulled minus rows acknowledged reach the bound, never more', async () => {
      const [hs, size, hb] = [2, 10, 1];
      const source = new CountingSource(100_000, { highWaterMark: hs });
      const stage = batch<number>(size, { highWaterMark: hb });
      const sink = new StalledSink<number[]>(1);
      pipeline(source, stage, sink, () => {});
      const gaps: number[] = [];
      for (let step = 0; step < 30; step++) {
        await quiesce(() => source.pulled);
        gaps.push(source.pulled - sink.acknowledged * size);
        sink.release();
      }
      expect(Math.max(...gaps)).to.equal(bound(hs, size, hb, 1));
      expect(sink.received.slice(0, 3)).to.deep.equal([range(10, 1), range(10, 11), range(10, 21)]);
      await destroyAll(source, stage, sink);
    });

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(1), { sourceHighWaterMark: 3, sinkHighWaterMark: 1, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(3, 5, 2, 1));
    });
  });

  describe('errors', () => {
    it('a stage after batch failing on the first batch (async): RowError; every stage closed', async () => {
      expect(await failsDownstream(range(5), batch(2), 1, 'async')).to.deep.equal([]);
    });

    it('an error on the last partial batch (emitted at flush) propagates; it is not a success (TESTPLAN B14)', async () => {
      const sink = collect<number[]>();
      const error = await rejectionOf(run(range(7), batch(3), map(function send(rows: number[]) {
        if (rows.length < 3) throw new Error(`partial batch of ${rows.length}`);
        return rows;
      }), sink));
      expect(error.message).to.equal('map(send) failed on row 3: partial batch of 1');
      expect(sink.rows).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
      expect(sink.writableFinished).to.equal(false);
    });

    it('a source failing mid-batch: the partial batch is not emitted as if the input had ended', async () => {
      const failure = new Error('read failed');
      let n = 0;
      const source = new Readable({
        objectMode: true,
        read() {
          if (++n === 5) this.destroy(failure);
          else this.push(n);
        },
      });
      const stage = batch(3);
      const sink = collect<number[]>();
      expect(await rejectionOf(run(source, stage, sink))).to.equal(failure);
      expect(sink.rows).to.deep.equal([[1, 2, 3]]);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(batch(2));
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator();
      const stage = batch<number>(4);
      for await (const rows of pipe(gen.source, stage)) {
        expect(rows).to.deep.equal([1, 2, 3, 4]);
        break;
      }
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
