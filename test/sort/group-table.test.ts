import { expect } from 'chai';
import { agg } from '../../lib/index.js';
import { slotsOf } from '../../lib/sort/aggregations.js';
import { GroupTable, groupTablePool } from '../../lib/sort/group-table.js';

describe('GroupTable', () => {
  it('predicts what a doubling adds (`growth`): the doubled arrays and what the pool keeps of the outgrown ones', () => {
    const table = new GroupTable([slotsOf(agg.count())!, slotsOf(agg.sum(1))!], groupTablePool());
    // One-unit keys: up to 128 groups their codes fit the first slab and positions block, so a
    // new group at a doubling adds the arrays alone.
    const jumps: { growth: number; added: number }[] = [];
    for (let g = 0; g < 200; g++) {
      const key = String.fromCharCode(0x41 + g);
      const before = table.bytes;
      const growth = table.growth;
      table.insert(key, g * 2654435761, [key]);
      if (growth > 0 && g <= 128) jumps.push({ growth, added: table.bytes - before });
      else if (g > 0 && g < 128) expect(table.bytes - before, `group ${g}`).to.equal(0); // (the first makes the codes' slab and positions)
    }
    // At 64 groups the pool is empty (the arrays double, the outgrown ones are pooled: twice
    // them); at 128 the pool's half-size ones give way to them (one and a half times).
    expect(jumps).to.have.length(2);
    for (const { growth, added } of jumps) expect(added).to.equal(growth);
    expect(jumps[1]!.growth / jumps[0]!.growth).to.equal(1.5);
  });

  it('reads back every key: one-string keys from their codes, any other from its record, in first-appearance order', () => {
    const table = new GroupTable([slotsOf(agg.count())!], groupTablePool());
    const keys: unknown[][] = [['a'], ['\u0001s1:b'], ['\ud800'], ['😀'], ['a longer key than twelve units'], ['x', 1]];
    const ids = ['a', '\u0001x', '\ud800', '😀', 'a longer key than twelve units', '\u0001y'];
    keys.forEach((k, g) => table.insert(ids[g]!, g, k));
    expect([...table.groups()].map((group) => group.keys)).to.deep.equal(keys);
  });
});
