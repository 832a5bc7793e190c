import { expect } from 'chai';
import fc from 'fast-check';
import { snapshot, tailOf, withTails } from '../../lib/parallel/tails.js';

const primitive = fc.oneof(fc.string(), fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, null, undefined, true, false), fc.bigInt());
const value = fc.oneof(primitive, fc.array(primitive, { maxLength: 2 }), fc.dictionary(fc.string(), primitive, { maxKeys: 2 }));

/** What a row function may do to its row: every way the append shortcut could go wrong. */
const change = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), tail: fc.array(value, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant('set in place, then append' as const), at: fc.nat(), to: value }),
  fc.record({ kind: fc.constant('replace one' as const), at: fc.nat(), to: value }),
  fc.record({ kind: fc.constant('drop the last' as const) }),
  fc.record({ kind: fc.constant('new row' as const), row: fc.array(value, { maxLength: 4 }) }),
);

type Change = { kind: string; tail?: unknown[]; at?: number; to?: unknown; row?: unknown[] };

function apply(row: unknown[], c: Change): unknown {
  switch (c.kind) {
    case 'append':
      return [...row, ...c.tail!];
    case 'set in place, then append':
      if (row.length > 0) row[c.at! % row.length] = c.to;
      return [...row, 'x'];
    case 'replace one': {
      const out = [...row];
      if (out.length > 0) out[c.at! % out.length] = c.to;
      return out;
    }
    case 'drop the last':
      return row.slice(0, -1);
    default:
      return c.row;
  }
}

describe('parallel: appended tails (tails.ts)', () => {
  it('differential: rows put back from tails equal the results, whatever the function did', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(value, { maxLength: 5 }), change), { maxLength: 20 }), (cases) => {
        const rows = cases.map(([row]) => row);
        // What crosses: the worker's copies of the rows (the function may change them).
        const copies = rows.map((row) => structuredClone(row));
        const outputs = copies.map((copy, i) => {
          const before = snapshot(copy);
          const out = apply(copy, cases[i][1]);
          return { out, tail: tailOf(before, out) };
        });
        // Rows whose result did not just append travel whole (the batch falls back); each
        // one that did comes back equal to its result.
        outputs.forEach(({ out, tail }, i) => {
          if (tail !== null) expect(withTails([rows[i]], [tail])).to.deep.equal([out]);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('only appends of primitives qualify', () => {
    expect(tailOf(snapshot(['a', 1]), ['a', 1, 'k'])).to.deep.equal(['k']);
    expect(tailOf(snapshot([-0]), [0, 'k'])).to.equal(null);
    expect(tailOf(snapshot([NaN]), [NaN, 'k'])).to.deep.equal(['k']);
    expect(snapshot([{ a: 1 }])).to.equal(null);
    expect(snapshot({ 0: 'a' })).to.equal(null);
    expect(snapshot([, 'hole'])).to.equal(null); // eslint-disable-line no-sparse-arrays
    expect(tailOf(snapshot(['a']), { 0: 'a' })).to.equal(null);
    expect(tailOf(snapshot(['a', 'b']), ['a'])).to.equal(null);
    expect(withTails([['a'], ['b']], [['x'], null])).to.deep.equal([['a', 'x'], null]);
  });
});
