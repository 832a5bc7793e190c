import { expect } from 'chai';
import fc from 'fast-check';
import { originOf, setOrigin } from '../../lib/core/origin.js';
import { EncodedTable } from '../../lib/join/encoded-table.js';
import { hashOf } from '../../lib/join/keys.js';

type Row = [string, ...unknown[]];
const idOf = (row: unknown) => (row as Row)[0];

/** A table of `rows` keyed by their first value, hashed by `hash` (default: the join's hash). */
function tableOf(rows: readonly unknown[], hash: (id: string) => number = (id) => hashOf(id)): EncodedTable {
  const table = new EncodedTable(idOf);
  for (const row of rows) table.add(row, idOf(row), hash(idOf(row)));
  return table;
}

const withOrigin = <T extends object>(row: T, source: string, line: number): T => {
  setOrigin(row, { source, line });
  return row;
};

describe('EncodedTable (the hash join table)', () => {
  it("gives a key's rows back equal, in the order added, as fresh copies; null for a key not held", () => {
    const rows: Row[] = [['a', 1], ['b', 'x', null], ['a', 2, { n: [3, -0] }], ['c', new Date(5)], ['a', 3n]];
    const table = tableOf(rows);
    const a = table.lookup('a', hashOf('a'))!;
    expect(a).to.deep.equal([rows[0], rows[2], rows[4]]);
    expect(a[0]).not.to.equal(rows[0]);
    expect(table.lookup('b', hashOf('b'))).to.deep.equal([rows[1]]);
    expect(table.lookup('z', hashOf('z'))).to.equal(null);
    expect(table.rows).to.equal(5);
  });

  it('tells apart keys of equal hashes (every key hashed alike)', () => {
    const rows: Row[] = [['a', 1], ['b', 2], ['a', 3], ['c', 4], ['b', 5]];
    const table = tableOf(rows, () => 7);
    expect(table.lookup('a', 7)).to.deep.equal([['a', 1], ['a', 3]]);
    expect(table.lookup('b', 7)).to.deep.equal([['b', 2], ['b', 5]]);
    expect(table.lookup('c', 7)).to.deep.equal([['c', 4]]);
    expect(table.lookup('d', 7)).to.equal(null);
  });

  it('keeps each row\'s origin: rows of several sources, a line past 32 bits, a row of a class (origin in its record), none', () => {
    const date = withOrigin(new Date(9), 'd.csv', 4);
    const rows = [
      withOrigin(['a', 1], 'x.csv', 2), withOrigin(['a', 2], 'y.csv', 3), ['a', 3], withOrigin({ 0: 'a', v: 4 }, 'x.csv', 2 ** 40), withOrigin(['a', 5], 'y.csv', 6),
    ];
    const table = new EncodedTable(() => 'a');
    for (const row of rows) table.add(row, 'a', 1);
    table.add(date, 'a', 1);
    const back = table.lookup('a', 1)!;
    expect(back.map((row) => originOf(row))).to.deep.equal([
      { source: 'x.csv', line: 2 }, { source: 'y.csv', line: 3 }, undefined, { source: 'x.csv', line: 2 ** 40 }, { source: 'y.csv', line: 6 }, { source: 'd.csv', line: 4 },
    ]);
    expect(back.slice(0, 5)).to.deep.equal(rows);
    expect(back[5]).to.deep.equal(date);
  });

  it('rows over many pages and index growths all come back (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.string({ maxLength: 300 })), { maxLength: 3000 }), (pairs) => {
      const rows: Row[] = pairs.map(([k, text], i) => [String(k), text, i]);
      const table = tableOf(rows);
      const byKey = new Map<string, Row[]>();
      for (const row of rows) byKey.set(row[0], [...(byKey.get(row[0]) ?? []), row]);
      for (const [key, group] of byKey) expect(table.lookup(key, hashOf(key))).to.deep.equal(group);
      expect(table.rows).to.equal(rows.length);
    }), { numRuns: 30 });
  });

  it('counts matched rows; unmatchedAt gives the rows whose key never matched', () => {
    const table = tableOf([['a', 1], ['b', 2], ['a', 3], ['c', 4]]);
    table.lookup('a', hashOf('a'));
    table.lookup('a', hashOf('a'));
    expect(table.matchedRows).to.equal(2);
    expect([0, 1, 2, 3].map((r) => table.unmatchedAt(r))).to.deep.equal([undefined, ['b', 2], undefined, ['c', 4]]);
  });

  it('counts the bytes it holds: more than the records it was given, and a small table holds little', () => {
    const empty = new EncodedTable(idOf).bytes;
    expect(empty).to.be.below(512);
    const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'x'.repeat(20)]);
    const table = tableOf(rows);
    // Each record holds at least its 22 characters of text; the index at least a slot and the row's fields.
    expect(table.bytes).to.be.within(10_000 * (22 + 4 + 12), 10_000 * 120);
  });
});
