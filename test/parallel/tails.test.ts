import { expect } from 'chai';
import fc from 'fast-check';
import { snapshot, TailCollector, withTails } from '../../lib/parallel/tails.js';

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

/** The tail of one row as the worker collects it: the collector's values and shape, or null when `out` does not just append. */
function tailOf(before: unknown[] | null, out: unknown): { values: unknown[]; shape: number | readonly number[] } | null {
  const tails = new TailCollector();
  return tails.add(before, out) ? { values: tails.values, shape: tails.shape } : null;
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
          if (tail !== null) expect(withTails([rows[i]], tail.values, tail.shape, 1)).to.deep.equal([out]);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('differential: a batch of appends of any widths, with failed rows anywhere, comes back as its results', () => {
    const step = fc.oneof(fc.record({ fails: fc.constant(true) }), fc.record({ fails: fc.constant(false), tail: fc.array(value, { maxLength: 3 }) }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(primitive, { maxLength: 4 }), step), { maxLength: 30 }), fc.boolean(), (cases, sameWidth) => {
        const rows = cases.map(([row]) => row);
        const tails = new TailCollector();
        const outputs = cases.map(([row, s]) => {
          if (s.fails) {
            tails.addFailed();
            return null;
          }
          // Either every tail one value wide (one width for the batch), or as generated.
          const tail = sameWidth ? s.tail!.slice(0, 1).concat(s.tail!.length === 0 ? ['k'] : []) : s.tail!;
          const out = [...structuredClone(row), ...tail];
          expect(tails.add(snapshot(structuredClone(row)), out)).to.equal(true);
          return out;
        });
        if (sameWidth) expect(tails.shape).to.be.a('number');
        const back = withTails(rows, structuredClone(tails.values), structuredClone(tails.shape), rows.length);
        outputs.forEach((out, i) => {
          if (out !== null) expect(back[i]).to.deep.equal(out);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('only appends of primitives qualify', () => {
    expect(tailOf(snapshot(['a', 1]), ['a', 1, 'k'])).to.deep.equal({ values: ['k'], shape: 1 });
    expect(tailOf(snapshot([-0]), [0, 'k'])).to.equal(null);
    expect(tailOf(snapshot([NaN]), [NaN, 'k'])).to.deep.equal({ values: ['k'], shape: 1 });
    expect(snapshot([{ a: 1 }])).to.equal(null);
    expect(snapshot({ 0: 'a' })).to.equal(null);
    expect(snapshot([, 'hole'])).to.equal(null); // eslint-disable-line no-sparse-arrays
    expect(tailOf(snapshot(['a']), { 0: 'a' })).to.equal(null);
    expect(tailOf(snapshot(['a', 'b']), ['a'])).to.equal(null);
  });

  it('a batch\'s tails cross as one flat array: one width when all agree, else one a row; failed rows hold nulls', () => {
    const tails = new TailCollector();
    tails.addFailed();
    tails.add(['a'], ['a', 'x']);
    tails.addFailed();
    expect({ values: tails.values, shape: tails.shape }).to.deep.equal({ values: [null, 'x', null], shape: 1 });
    tails.add(['b'], ['b', 'y', 'z']);
    expect({ values: tails.values, shape: tails.shape }).to.deep.equal({ values: [null, 'x', null, 'y', 'z'], shape: [1, 1, 1, 2] });
    const rows = [{ not: 'an array' }, ['a'], ['c'], ['b']];
    expect(withTails(rows, tails.values, tails.shape, 4)).to.deep.equal([null, ['a', 'x'], ['c', null], ['b', 'y', 'z']]);
    expect(withTails(rows, tails.values, tails.shape, 2), 'only the rows that ran').to.have.length(2);
  });
});
