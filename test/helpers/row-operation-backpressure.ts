import { expect } from 'chai';
import { Readable, pipeline } from 'node:stream';
import type { RowOperationSubject } from './row-operation-subject.js';
import { ControlledCalls, CountingSource, StalledSink, closed, destroyAll, ignoresBackpressure, measureHeld, quiesce, range } from './streams.js';

/**
 * The contract's backpressure bounds: with a stalled consumer a row operation holds exactly
 * what its high-water marks and `concurrency` allow, and reaches that; the same measurement
 * run on a Transform that ignores backpressure must fail them.
 */
export function describeBackpressure(subject: RowOperationSubject): void {
  const { make, pass } = subject;
  describe('backpressure', () => {
    // What a stalled pipeline can hold, from the high-water marks: the source's buffer
    // (hs), the stage's input buffer (h rows, one of them the row whose write is held),
    // its output buffer (h rows), and the rows the stalled sink took (hk).
    const syncBound = (hs: number, h: number, hk: number) => hs + (h - 1) + h + hk;

    for (const [hs, h, hk] of [[1, 1, 1], [4, 2, 3], [2, 16, 1], [2, 3, 2], [1, 4, 3]]) {
      it(`sync fn, stalled consumer (source ${hs}, stage ${h}, sink ${hk}): pulls exactly ${syncBound(hs, h, hk)} rows, then stops`, async () => {
        const held = await measureHeld(make(pass, { highWaterMark: h }), { sourceHighWaterMark: hs, sinkHighWaterMark: hk });
        expect(held.inSink).to.equal(hk);
        expect(held.pulled).to.equal(syncBound(hs, h, hk));
      });
    }

    for (const [hs, h, c] of [[3, 4, 5], [2, 3, 4], [1, 2, 6]]) {
      it(`with calls that never settle (source ${hs}, stage ${h}, concurrency ${c}): exactly \`concurrency\` in flight, and hs + (h - 1) + concurrency rows pulled`, async () => {
        const calls = new ControlledCalls<number, unknown>();
        const source = new CountingSource(10_000, { highWaterMark: hs });
        const stage = make(calls.fn, { highWaterMark: h, concurrency: c });
        const sink = new StalledSink();
        pipeline(source, stage, sink, () => {});
        await calls.called(c);
        const pulled = await quiesce(() => source.pulled);
        // The limit is reached and holds: c calls, the c-th row's write held back, the
        // input buffer full behind it (h rows counting that one), the source's buffer full.
        expect(calls.calls.length).to.equal(c);
        expect(calls.inFlight).to.equal(c);
        expect(pulled).to.equal(hs + (h - 1) + c);
        await destroyAll(source, stage, sink);
      });
    }

    // Results of async calls arrive after `_transform` returned, so Transform's own check
    // does not see them; the stage takes a new row only while its output buffer is below
    // h, so output + in flight ≤ h + c - 1 (the output is where in-flight rows end up).
    const asyncBound = (hs: number, h: number, c: number, hk: number) => hs + (h - 1) + (h + c - 1) + hk;

    const settling = {
      'in a microtask': { wait: () => Promise.resolve(), sizes: [[1, 1, 2], [2, 3, 4], [4, 16, 8], [3, 2, 5]] },
      'a turn later': { wait: () => new Promise<void>((resolve) => setImmediate(resolve)), sizes: [[1, 1, 2], [2, 3, 4], [4, 16, 8], [2, 3, 3]] },
    };
    for (const [when, { wait, sizes }] of Object.entries(settling)) {
      for (const [hs, h, c] of sizes) {
        it(`async fn settling ${when}, stalled consumer (source ${hs}, stage ${h}, concurrency ${c}): pulls exactly ${asyncBound(hs, h, c, 1)}, concurrency reached`, async () => {
          let inFlight = 0;
          let maxInFlight = 0;
          const fn = async (x: number) => {
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            await wait();
            inFlight--;
            return pass(x);
          };
          const held = await measureHeld(make(fn, { highWaterMark: h, concurrency: c }), { sourceHighWaterMark: hs, sinkHighWaterMark: 1 });
          expect(held.pulled).to.equal(asyncBound(hs, h, c, 1));
          expect(maxInFlight).to.equal(c);
        });
      }
    }

    // Regression: with concurrency > 1 the stage used to take a new row for every result,
    // whatever its output held; with an async source every step ran in a microtask, so the
    // 'readable' event (a nextTick) never fired: the first next() never resolved while the
    // output grew without bound. The source gives up after 10,000 rows so this fails fast.
    for (const [hs, h, c] of [[1, 1, 2], [2, 3, 4], [16, 16, 8]]) {
      it(`an async-iterator consumer with concurrency ${c} gets its first row, and the source stops (source ${hs}, stage ${h})`, async () => {
        let yielded = 0;
        async function* rows(): AsyncGenerator<number> {
          for (let i = 1; ; i++) {
            if (++yielded > 10_000) throw new Error('read 10,000 rows ahead of the consumer');
            yield i;
          }
        }
        const source = Readable.from(rows(), { highWaterMark: hs });
        const stage = make(async (x) => pass(x), { highWaterMark: h, concurrency: c });
        pipeline(source, stage, () => {});
        const iterator = stage[Symbol.asyncIterator]();
        expect(await iterator.next()).to.deep.equal({ value: 1, done: false });
        const pulled = await quiesce(() => yielded);
        // Both buffers full, nothing beyond what the bound allows (the consumer holds row 1).
        expect([stage.readableLength, stage.writableLength]).to.deep.equal([h, h]);
        expect(pulled).to.be.at.most(asyncBound(hs, h, c, 1));
        await iterator.return!();
        await closed(stage);
      });
    }

    it('slow consumer: rows pulled minus rows acknowledged never exceed the bound, and reach it', async () => {
      const [hs, h, c, hk] = [2, 3, 4, 1];
      const source = new CountingSource(10_000, { highWaterMark: hs });
      const stage = make(async (x) => pass(x), { highWaterMark: h, concurrency: c });
      const sink = new StalledSink(hk);
      pipeline(source, stage, sink, () => {});
      const gaps: number[] = [];
      for (let step = 0; step < 60; step++) {
        await quiesce(() => source.pulled);
        gaps.push(source.pulled - sink.acknowledged);
        sink.release();
      }
      expect(Math.max(...gaps)).to.equal(asyncBound(hs, h, c, hk));
      expect(sink.acknowledged).to.equal(60);
      expect(sink.received.slice(0, 60)).to.deep.equal(range(60));
      await destroyAll(source, stage, sink);
    });

    // The measurement must fail for a stage that ignores backpressure, or the bounds above prove nothing.
    for (const [hc, hs, hk, total] of [[1, 1, 1, 5_000], [1, 2, 1, 2_000], [16, 1, 3, 2_000]]) {
      it(`control: the same measurement catches a Transform that ignores backpressure (its high-water mark ${hc}, source ${hs}, sink ${hk})`, async () => {
        const held = await measureHeld(ignoresBackpressure(hc), { sourceHighWaterMark: hs, sinkHighWaterMark: hk, total });
        expect(held.pulled).to.equal(total);
        expect(held.pulled).to.be.greaterThan(asyncBound(hs, hc, 1, hk));
      });
    }
  });
}
