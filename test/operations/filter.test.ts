import { expect } from 'chai';
import { filter, type Reject } from '../../lib/index.js';
import { describeRowOperationContract } from '../helpers/row-operation-contract.js';
import { describeUnordered } from '../helpers/row-operation-unordered.js';
import type { RowOperationSubject } from '../helpers/row-operation-subject.js';
import { ControlledCalls, collect, counts, expectAccounted, measureHeld, range, runAccounted } from '../helpers/streams.js';

const isEven = (x: number) => x % 2 === 0;

describe('filter()', () => {
  const subject: RowOperationSubject = {
    name: 'filter',
    fnOption: 'predicate',
    make: (fn, options) => filter(fn, options),
    pass: () => true,
  };
  describeRowOperationContract(subject);
  describeUnordered(subject);

  describe('behaviour', () => {
    it('keeps the rows a sync predicate accepts and counts the rest as filtered', async () => {
      const stage = filter(isEven);
      const sink = collect<number>();
      const summary = await runAccounted(range(10), stage, sink);
      expect(sink.rows).to.deep.equal([2, 4, 6, 8, 10]);
      expect(stage.stats).to.deep.equal({ in: 10, out: 5, filtered: 5, rejected: 0 });
      expect(counts(summary)).to.deep.equal({ read: 10, written: 5, filtered: 5, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('awaits an async predicate, and any truthy value keeps the row', async () => {
      const verdicts: unknown[] = [1, 0, 'yes', '', {}, null, [], undefined];
      const sink = collect<number>();
      const summary = await runAccounted(range(8), filter(async (x: number) => verdicts[x - 1]), sink);
      expect(sink.rows).to.deep.equal([1, 3, 5, 7]);
      expectAccounted(summary);
    });

    it('drops rows in input order when verdicts arrive out of order (concurrency 3)', async () => {
      const calls = new ControlledCalls<number, boolean>();
      const sink = collect<number>();
      const done = runAccounted(range(6), filter(calls.fn, { concurrency: 3 }), sink);
      const verdicts = [true, false, true, false, true, true];
      for (const settleOrder of [[2, 1, 0], [5, 4, 3]]) {
        await calls.called(Math.max(...settleOrder) + 1);
        for (const i of settleOrder) calls.resolve(i, verdicts[i]);
      }
      const summary = await done;
      expect(sink.rows).to.deep.equal([1, 3, 5, 6]);
      expect(calls.maxInFlight).to.equal(3);
      expect(counts(summary)).to.deep.equal({ read: 6, written: 4, filtered: 2, rejected: 0, stoppedEarly: false });
    });
  });

  describe('backpressure', () => {
    it('dropped rows are not held: dropping everything drains the source, nothing reaches the stalled sink', async () => {
      const stage = filter(() => false, { highWaterMark: 1 });
      const held = await measureHeld(stage, { sourceHighWaterMark: 1, sinkHighWaterMark: 1, total: 500 });
      expect(held.pulled).to.equal(500);
      expect(held.inSink).to.equal(0);
      expect(stage.stats.filtered).to.equal(500);
    });
  });

  describe('errors', () => {
    it("onError 'reject': rejected rows go to rejects and are counted apart from filtered rows", async () => {
      const rejects: Reject[] = [];
      const predicate = function picky(x: number) {
        if (x === 3) throw new Error('three');
        return x % 2 === 0;
      };
      const summary = await runAccounted(range(6), filter(predicate, { onError: 'reject' }), collect(), { rejects: (r) => void rejects.push(r) });
      expect(rejects.map(({ stage, reason, index, row }) => ({ stage, reason, index, row }))).to.deep.equal([
        { stage: 'filter(picky)', reason: 'three', index: 3, row: 3 },
      ]);
      expect(counts(summary)).to.deep.equal({ read: 6, written: 3, filtered: 2, rejected: 1, stoppedEarly: false });
      expectAccounted(summary);
    });
  });
});
