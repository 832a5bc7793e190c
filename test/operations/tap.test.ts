import { expect } from 'chai';
import { tap } from '../../lib/index.js';
import { describeRowOperationContract } from '../helpers/row-operation-contract.js';
import { describeUnordered } from '../helpers/row-operation-unordered.js';
import type { RowOperationSubject } from '../helpers/row-operation-subject.js';
import { ControlledCalls, collect, counts, expectAccounted, quiesce, range, runAccounted, until } from '../helpers/streams.js';

describe('tap()', () => {
  const subject: RowOperationSubject = {
    name: 'tap',
    fnOption: 'fn',
    make: (fn, options) => tap(fn, options),
    // tap ignores what its function returns.
    pass: () => undefined,
  };
  describeRowOperationContract(subject);
  describeUnordered(subject);

  describe('behaviour', () => {
    it('calls fn for each row and passes the very same row on', async () => {
      const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
      const seen: { id: number }[] = [];
      const sink = collect<{ id: number }>();
      const summary = await runAccounted(rows, tap((row: { id: number }) => void seen.push(row)), sink);
      expect(seen).to.deep.equal(rows);
      sink.rows.forEach((row, i) => expect(row).to.equal(rows[i]));
      expect(counts(summary)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it("ignores fn's return value, sync or async", async () => {
      const sink = collect<number>();
      await runAccounted(range(3), tap(() => null), tap(async () => 'ignored'), sink);
      expect(sink.rows).to.deep.equal([1, 2, 3]);
    });

    it('awaits an async fn before the row moves on (the side effect comes first)', async () => {
      const calls = new ControlledCalls<number, void>();
      const sink = collect<number>();
      const done = runAccounted(range(2), tap(calls.fn), sink);
      await calls.called(1);
      await quiesce(() => sink.rows.length);
      expect(sink.rows).to.deep.equal([]);
      calls.resolve(0, undefined);
      await calls.called(2);
      await until(() => sink.rows.length === 1, 'row 1');
      calls.resolve(1, undefined);
      await done;
      expect(sink.rows).to.deep.equal([1, 2]);
    });
  });
});
