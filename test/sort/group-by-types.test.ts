/**
 * groupBy's output row type derives from the key and the aggregations: checked by `tsc -p
 * tsconfig.test.json` (part of `npm test`). `Expect<Equal<A, B>>` fails to compile unless A
 * and B are the same type, and each `@ts-expect-error` proves a mismatch is an error; the
 * mocha test runs one pipeline to show the checked type is the row that comes out.
 */
import { expect } from 'chai';
import { agg, groupBy, run, type Stage } from '../../lib/index.js';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type OutOf<S> = S extends Stage<unknown, infer O> ? O : S extends Stage<never, infer O> ? O : never;

interface Ticket {
  state: string;
  code: number;
  fine: number;
}

const byState = groupBy((row: Ticket) => row.state, { tickets: agg.count(), fines: agg.sum<Ticket>('fine'), mean: agg.avg<Ticket>('fine') });
const byColumns = groupBy([0, 2], { n: agg.count() }, { output: 'object' });
const byName = groupBy('state', { top: agg.max('fine'), plates: agg.countDistinct('plate') });
const asArray = groupBy((row: Ticket) => row.code, { tickets: agg.count(), mean: agg.avg<Ticket>('fine') }, { output: 'array' });
const untyped = groupBy<string[]>(2, { n: agg.count() }, { output: 'array' });

export type Checks = [
  Expect<Equal<OutOf<typeof byState>, { key: string; tickets: number; fines: number; mean: number | null }>>,
  Expect<Equal<OutOf<typeof byColumns>, { key0: unknown; key2: unknown; n: number }>>,
  Expect<Equal<OutOf<typeof byName>, { state: unknown; top: unknown; plates: number }>>,
  Expect<Equal<OutOf<typeof asArray>, [number, ...(number | null)[]]>>,
  // The row type given alone: TypeScript infers neither key nor aggregations, the row is wide.
  Expect<Equal<OutOf<typeof untyped>, unknown[]>>,
];

/** Type-level checks only (never called). */
export function typeChecks(): void {
  void run([{ state: 'NY', code: 21, fine: 65 }], byState, (row) => {
    const tickets: number = row.tickets;
    // @ts-expect-error the key of a key function is `key`, not the column's name
    void row.state;
    // @ts-expect-error `mean` is null for a group without numbers
    const mean: number = row.mean;
    return [tickets, mean];
  });
}

describe('groupBy(): output row types', () => {
  it('gives the rows its type says', async () => {
    const out: OutOf<typeof byState>[] = [];
    await run([{ state: 'NY', code: 21, fine: 65 }, { state: 'NY', code: 38, fine: 35 }], groupBy((row: Ticket) => row.state, { tickets: agg.count(), fines: agg.sum<Ticket>('fine'), mean: agg.avg<Ticket>('fine') }), (row) => {
      out.push(row);
    });
    expect(out).to.deep.equal([{ key: 'NY', tickets: 2, fines: 100, mean: 50 }]);
  });
});
