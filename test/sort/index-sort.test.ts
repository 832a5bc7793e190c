import { expect } from 'chai';
import fc from 'fast-check';
import { sortIndex } from '../../lib/sort/index-sort.js';

describe('sortIndex()', () => {
  it('orders an index as a stable Array.prototype.sort does, ties in index order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 700 }), (keys) => {
        const index = Uint32Array.from(keys.keys());
        const expected = [...keys.keys()].sort((a, b) => keys[a]! - keys[b]!);
        expect([...sortIndex(index, (a, b) => keys[a]! - keys[b]!)]).to.deep.equal(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('sorts the empty index and one of a single row', () => {
    expect([...sortIndex(new Uint32Array(0), () => 0)]).to.deep.equal([]);
    expect([...sortIndex(Uint32Array.of(0), () => 0)]).to.deep.equal([0]);
  });
});
