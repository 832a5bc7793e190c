import { expect } from 'chai';
import fc from 'fast-check';
import { PREFIX_WORDS } from '../../lib/sort/key-codes.js';
import { ENTRY_WORDS, sortByPrefix } from '../../lib/sort/prefix-sort.js';

describe('sortByPrefix()', () => {
  it('orders rows by their prefix words as unsigned numbers, then by the tie comparator among equal prefixes (property)', () => {
    // Few distinct words (the top and bottom ones among them), so prefixes often tie in part or whole.
    const word = fc.constantFrom(0, 1, 0x00ff0000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(word, { minLength: PREFIX_WORDS, maxLength: PREFIX_WORDS }), fc.nat(3)), { maxLength: 300 }), (rows) => {
        const entries = new Uint32Array(rows.length * ENTRY_WORDS);
        rows.forEach(([prefix], r) => entries.set(prefix, r * ENTRY_WORDS));
        const tie = (a: number, b: number) => rows[b]![1] - rows[a]![1] || a - b; // by the number, descending, then by row
        const order = sortByPrefix(entries, new Uint32Array(entries.length), new Uint32Array(rows.length), tie);
        const expected = rows.map((_, r) => r).sort((a, b) => {
          for (let w = 0; w < PREFIX_WORDS; w++) if (rows[a]![0][w] !== rows[b]![0][w]) return rows[a]![0][w]! - rows[b]![0][w]!;
          return tie(a, b);
        });
        expect([...order]).to.deep.equal(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('sorts no rows and one row', () => {
    expect([...sortByPrefix(new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), () => 0)]).to.deep.equal([]);
    expect([...sortByPrefix(new Uint32Array(ENTRY_WORDS).fill(9), new Uint32Array(ENTRY_WORDS), new Uint32Array(1), () => 0)]).to.deep.equal([0]);
  });
});
