import { expect } from 'chai';
import { map, run, type MapFunction } from '../../lib/index.js';
import { describeRowOperationContract } from '../helpers/row-operation-contract.js';
import { describeUnordered } from '../helpers/row-operation-unordered.js';
import type { RowOperationSubject } from '../helpers/row-operation-subject.js';
import { ControlledCalls, collect, counts, expectAccounted, range, rejectionOf, runAccounted } from '../helpers/streams.js';

const double = (x: number) => x * 2;

describe('map()', () => {
  const subject: RowOperationSubject = {
    name: 'map',
    fnOption: 'fn',
    // Cast: the contract's functions return the row they were given, so Out is In.
    make: (fn, options) => map(fn as MapFunction<number, number>, options),
    pass: (row) => row,
  };
  describeRowOperationContract(subject);
  describeUnordered(subject);

  describe('behaviour', () => {
    it('maps each row with a sync function, in order', async () => {
      const sink = collect<number>();
      const summary = await runAccounted(range(50), map(double), sink);
      expect(sink.rows).to.deep.equal(range(50).map(double));
      expect(counts(summary)).to.deep.equal({ read: 50, written: 50, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('awaits an async function', async () => {
      const sink = collect<string>();
      const summary = await runAccounted(range(5), map(async (x: number) => `row ${x}`), sink);
      expect(sink.rows).to.deep.equal(['row 1', 'row 2', 'row 3', 'row 4', 'row 5']);
      expectAccounted(summary);
    });

    it('passes on the results, not the rows, in input order when calls complete out of order', async () => {
      const calls = new ControlledCalls<number, string>();
      const sink = collect<string>();
      const done = runAccounted(range(8), map(calls.fn, { concurrency: 4 }), sink);
      for (const settleOrder of [[3, 2, 1, 0], [7, 5, 6, 4]]) {
        await calls.called(Math.max(...settleOrder) + 1);
        for (const i of settleOrder) calls.resolve(i, `r${calls.calls[i].row}`);
      }
      await done;
      expect(sink.rows).to.deep.equal(range(8).map((x) => `r${x}`));
      expect(calls.maxInFlight).to.equal(4);
    });
  });

  describe('errors', () => {
    it('returning null or undefined is a RowError (it would end the stream or lose the row)', async () => {
      const nulls = await rejectionOf(run(range(3), map((x: number) => (x === 2 ? null : x)), collect()));
      expect(nulls.message).to.equal('map() failed on row 2: returned null (use filter() to drop rows)');
      const undefs = await rejectionOf(run(range(3), map(async () => undefined), collect()));
      expect(undefs.message).to.equal('map() failed on row 1: returned undefined (use filter() to drop rows)');
    });
  });
});
