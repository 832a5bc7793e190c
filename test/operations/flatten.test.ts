import { expect } from 'chai';
import { RowError, batch, flatten, pipe, run } from '../../lib/index.js';
import {
  closed,
  collect,
  counts,
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
  CountingSource,
} from '../helpers/streams.js';

describe('flatten()', () => {
  describe('behaviour', () => {
    it('turns each array into its items, in order', async () => {
      const stage = flatten<number>();
      const sink = collect<number>();
      const summary = await run([[1, 2], [3], [4, 5, 6]], stage, sink);
      expect(sink.rows).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(stage.stats).to.deep.equal({ in: 3, out: 6, filtered: 0, rejected: 0 });
      // Not 1:1: read counts arrays, written counts items.
      expect(counts(summary)).to.deep.equal({ read: 3, written: 6, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('an empty array gives nothing; empty input finishes with nothing', async () => {
      const sink = collect<number>();
      await run([[], [1], []], flatten(), sink);
      expect(sink.rows).to.deep.equal([1]);
      const none = collect();
      expect(counts(await run([], flatten(), none))).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
      expect(none.writableFinished).to.equal(true);
    });

    it('passes the item objects themselves, one level deep only', async () => {
      const item = { id: 1 };
      const sink = collect<unknown>();
      await run([[item, [2, 3]]], flatten(), sink);
      expect(sink.rows[0]).to.equal(item);
      expect(sink.rows[1]).to.deep.equal([2, 3]);
    });

    it('is the inverse of batch: 1:1 overall, every row accounted for', async () => {
      const sink = collect<number>();
      const summary = await run(range(95), batch(10), flatten(), sink);
      expect(sink.rows).to.deep.equal(range(95));
      expectAccounted(summary);
    });

    it('works in a bare stream.pipeline', async () => {
      const sink = collect<number>();
      expect(await pipelineResult(new CountingSource(5, { row: (i) => [i, -i] }), flatten(), sink)).to.equal(null);
      expect(sink.rows).to.deep.equal([1, -1, 2, -2, 3, -3, 4, -4, 5, -5]);
    });
  });

  describe('options', () => {
    it('highWaterMark: 16 on both sides by default, else as given (the options object unchanged); named flatten()', () => {
      expectHighWaterMarks((options) => flatten(options), 5);
      expect(flatten().stage).to.equal('flatten()');
    });

    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => flatten(3 as never), 'flatten(): expected `options` to be an object, got `3` (number)'],
        [() => flatten(null as never), 'flatten(): expected `options` to be an object, got `null`'],
        [() => flatten({ highWaterMark: 0 }), 'flatten(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
      ];
      expectTypeErrors(cases);
    });
  });

  describe('backpressure', () => {
    // In arrays of k items. One array's items are pushed together, so the output fills in
    // steps of k: the stalled sink takes hk items and the output h more once
    // ceil((h + hk) / k) arrays are out; the last of them is held (its write not called
    // back) with h - 1 more arrays in the input buffer; hs in the source's buffer.
    const bound = (hs: number, h: number, hk: number, k: number) => hs + (h - 1) + Math.ceil((h + hk) / k);

    for (const [hs, h, hk, k] of [[1, 1, 1, 1], [3, 5, 2, 3], [2, 16, 1, 10], [1, 2, 4, 2]]) {
      it(`stalled consumer (source ${hs}, stage ${h}, sink ${hk}, ${k} items an array): pulls exactly ${bound(hs, h, hk, k)} arrays`, async () => {
        const held = await measureHeld(flatten({ highWaterMark: h }), {
          sourceHighWaterMark: hs,
          sinkHighWaterMark: hk,
          row: (i) => Array.from({ length: k }, (_, j) => i * 100 + j),
        });
        expect(held.inSink).to.equal(hk);
        expect(held.pulled).to.equal(bound(hs, h, hk, k));
      });
    }

    it('control: the measurement catches a Transform that ignores backpressure', async () => {
      const held = await measureHeld(ignoresBackpressure(5), { sourceHighWaterMark: 3, sinkHighWaterMark: 2, total: 2_000 });
      expect(held.pulled).to.be.greaterThan(bound(3, 5, 2, 1));
    });
  });

  describe('errors', () => {
    it('a first row that is not an array: RowError naming stage and row; every stage closed', async () => {
      const stage = flatten();
      const sink = collect();
      // Cast: not an array on purpose (the stage's row type would reject it).
      const error = await rejectionOf(run([{ 0: 'a', length: 1 }] as never[], stage, sink));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('flatten() failed on row 1: expected an array, got an object');
      expect((error as RowError).row).to.equal(1);
      expect([stage.closed, sink.closed]).to.deep.equal([true, true]);
    });

    it('a middle row that is not an array (a string is not split): earlier items delivered', async () => {
      const sink = collect();
      // Cast: a row of the wrong kind on purpose (the stage's row type would reject it).
      const error = await rejectionOf(run([[1, 2], 'abc', [3]] as never[], flatten(), sink));
      expect(error.message).to.equal('flatten() failed on row 2: expected an array, got a string');
      expect(sink.rows).to.deep.equal([1, 2]);
    });

    it('a stage after flatten failing (async): its RowError wins; every stage closed', async () => {
      expect(await failsDownstream([[1, 2], [3, 4]], flatten<number>(), 3, 'async')).to.deep.equal([1, 2]);
    });
  });

  describe('early destroy', () => {
    it("destroying mid-stream: 'close' once, no 'end' or 'finish'", async () => {
      const { events } = await destroyMidStream(flatten(), (i) => [i, i]);
      expect(events).to.deep.equal({ close: 1, end: 0, finish: 0, error: 0 });
    });

    it("for await … break over pipe() runs the generator's finally", async () => {
      const gen = trackedGenerator((i) => [i, i + 0.5]);
      const stage = flatten<number>();
      const seen: number[] = [];
      for await (const item of pipe(gen.source, stage)) {
        seen.push(item);
        if (seen.length === 3) break;
      }
      expect(seen).to.deep.equal([1, 1.5, 2]);
      await closed(stage);
      await until(() => gen.state.finallyRan, "the generator's finally");
    });
  });
});
