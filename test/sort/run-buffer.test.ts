import { expect } from 'chai';
import fc from 'fast-check';
import { RunBuffer, runPool } from '../../lib/sort/run-buffer.js';
import { sortKeys } from '../../lib/sort/keys.js';

/** Units either side of the prefix's byte boundaries (253, 254), surrogate halves, NUL and the top unit. */
const UNITS = [0, 1, 0x2f, 0x30, 0x31, 0x41, 0x61, 252, 253, 254, 255, 256, 0x7ff, 0xd83d, 0xde00, 0xdfff, 0xfffe, 0xffff];
const unitString = (maxLength: number) => fc.array(fc.constantFrom(...UNITS), { maxLength }).map((units) => String.fromCharCode(...units));

/** Keys that share long prefixes (longer than the 16 prefix bytes), empty keys among them. */
const key = fc.tuple(fc.constantFrom('', 'TOYOT', 'TOYOTA', '0123456789012345678', '😀😀'), unitString(4)).map(([base, tail]) => base + tail);

/** The order `order()` must give: JavaScript's `<` on each key in turn (desc reversed), ties by input order. */
function expected(rows: string[][], signs: (1 | -1)[]): number[] {
  return rows.map((_, i) => i).sort((a, b) => {
    for (let k = 0; k < signs.length; k++) {
      const x = rows[a]![k]!;
      const y = rows[b]![k]!;
      if (x !== y) return (x < y ? -1 : 1) * signs[k]!;
    }
    return a - b;
  });
}

describe('RunBuffer', () => {
  describe('order() of string keys (coded, compared by prefix first)', () => {
    it('is the order of `<` on the keys in turn, asc or desc, stable (property)', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(key, key, fc.nat(9)), { maxLength: 400 }), fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), (tuples, descs) => {
          const rows = tuples.map(([a, b, n]) => [a, b, String(n)]);
          const signs = descs.map((d) => (d ? -1 : 1) as 1 | -1);
          const run = new RunBuffer<string[]>(sortKeys<string[]>([{ key: 0, order: descs[0] ? 'desc' : 'asc' }, { key: 1, order: descs[1] ? 'desc' : 'asc' }], undefined));
          for (const row of rows) run.add(row);
          expect([...run.order()]).to.deep.equal(expected(rows, signs));
        }),
        { numRuns: 300 },
      );
    });

    it('runs sharing a pool, each longer or shorter than the last, order exactly their own rows', () => {
      const pool = runPool();
      const keys = sortKeys<string[]>([0], undefined);
      for (const count of [100, 103, 140, 20, 141, 400]) {
        const rows = Array.from({ length: count }, (_, i) => [String((i * 7919) % count), String(i)]);
        const run = new RunBuffer<string[]>(keys, pool);
        for (const row of rows) run.add(row);
        expect([...run.order()], `a run of ${count}`).to.deep.equal(expected(rows, [1]));
        run.release();
      }
    });

    it('orders keys that differ only past the prefix, in units from 254 up, and by length', () => {
      const rows = [['TOYOTA', '01234567890123456789'], ['TOYOTA', '01234567890123456788'], ['ÿa'], ['ÿ'], ['þb'], ['þa'], ['\u0100'], [''], ['\u0000'], ['a\uffff'], ['a\ud83d\ude00'], ['a\uff61']]
        .map((r) => (r.length === 1 ? [r[0]!, ''] : r));
      for (const descs of [[false, false], [true, false], [false, true], [true, true]]) {
        const run = new RunBuffer<string[]>(sortKeys<string[]>(descs.map((d, k) => ({ key: k, order: d ? 'desc' as const : 'asc' as const })), undefined));
        for (const row of rows) run.add(row);
        expect([...run.order()]).to.deep.equal(expected(rows, descs.map((d) => (d ? -1 : 1))));
      }
    });
  });
});
