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

  it('an array of strings (its compact record when ASCII) and every other row come back equal, with their origins, mixed in one table (property, against a Map of the rows)', () => {
    // Fields short and past the unit-copy length (128), ASCII or not; rows of other kinds between them.
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: fc.constantFrom('a', ',', '"'), minLength: 100, maxLength: 200 }), fc.string({ unit: fc.constantFrom('a', 'é', '\u{1F600}', '\ud800'), maxLength: 150 }));
    const strings = fc.array(text, { maxLength: 6 });
    const other = fc.oneof(fc.tuple(fc.string(), fc.integer()), fc.constant([] as unknown[]), fc.record({ v: fc.string(), n: fc.double() }), fc.array(fc.oneof(fc.string(), fc.constant(null)), { maxLength: 3 }));
    const origin = fc.option(fc.tuple(fc.constantFrom('x.csv', 'y.csv'), fc.oneof(fc.nat(), fc.constant(2 ** 40))), { freq: 3 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.oneof(strings, strings, other), origin), { maxLength: 400 }), (specs) => {
      const rows = specs.map(([k, value, from]) => {
        const row = Array.isArray(value) ? [`${k}`, ...value] : { ...value, key: `${k}` };
        if (from) setOrigin(row, { source: from[0], line: from[1] });
        return row;
      });
      const keyOf = (row: unknown) => (Array.isArray(row) ? (row[0] as string) : (row as { key: string }).key);
      const table = new EncodedTable(keyOf);
      const byKey = new Map<string, unknown[]>();
      for (const row of rows) {
        table.add(row, keyOf(row), hashOf(keyOf(row)));
        byKey.set(keyOf(row), [...(byKey.get(keyOf(row)) ?? []), row]);
      }
      for (const [key, group] of byKey) {
        const back = table.lookup(key, hashOf(key))!;
        expect(back).to.deep.equal(group);
        expect(back.map((row) => originOf(row))).to.deep.equal(group.map((row) => originOf(row)));
      }
      expect([...table.all()]).to.deep.equal(rows);
    }), { numRuns: 60 });
  });

  it('an array of ASCII strings is held as its text, its lengths and its field count (no spill-format record around it)', () => {
    const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => [`${1_000_000_000 + i}`, '160.96', '2018-05-16', 'card']);
    const table = tableOf(rows);
    // 30 characters of text, 5 bytes of count and lengths, 16 of index a row (whether it matched is a bit of it); the slots (a power of two, at most 3/4 full: 16,384 of 4 bytes) and the index's spare capacity (to 16,384 rows) beside.
    expect(table.bytes).to.be.within(10_000 * (30 + 5 + 16), 10_000 * (30 + 5) + 16_384 * (16 + 4) + 70_000);
  });

  it('counts matched rows; unmatchedAt gives the rows whose key never matched', () => {
    const table = tableOf([['a', 1], ['b', 2], ['a', 3], ['c', 4]]);
    table.lookup('a', hashOf('a'));
    table.lookup('a', hashOf('a'));
    expect(table.matchedRows).to.equal(2);
    expect([0, 1, 2, 3].map((r) => table.unmatchedAt(r))).to.deep.equal([undefined, ['b', 2], undefined, ['c', 4]]);
  });

  it('a row added after its key matched is unmatched until the key matches again, and counts once', () => {
    const table = tableOf([['a', 1], ['a', 2]]);
    table.lookup('a', hashOf('a'));
    table.add(['a', 3], 'a', hashOf('a'));
    expect(table.matchedRows).to.equal(2);
    expect(table.unmatchedAt(2)).to.deep.equal(['a', 3]);
    expect(table.lookup('a', hashOf('a'))).to.deep.equal([['a', 1], ['a', 2], ['a', 3]]);
    expect(table.matchedRows).to.equal(3);
    expect([0, 1, 2].map((r) => table.unmatchedAt(r))).to.deep.equal([undefined, undefined, undefined]);
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
