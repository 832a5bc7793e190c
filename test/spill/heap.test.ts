import { expect } from 'chai';
import fc from 'fast-check';
import { Heap } from '../../lib/spill/heap.js';

describe('Heap', () => {
  it('pops in comparator order whatever was pushed, with replaceTop mixed in (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer()), fc.array(fc.integer()), (pushed, replacements) => {
      const heap = new Heap<number>((a, b) => a < b);
      for (const n of pushed) heap.push(n);
      const all = [...pushed];
      for (const r of replacements) {
        if (heap.size === 0) break;
        all.splice(all.indexOf(heap.peek()!), 1, r);
        heap.replaceTop(r);
      }
      const out: number[] = [];
      while (heap.size > 0) out.push(heap.pop()!);
      expect(out).to.deep.equal(all.sort((a, b) => a - b));
      expect(heap.pop()).to.equal(undefined);
    }));
  });
});
