import { expect } from 'chai';
import { copyBytes, viewOf } from '../../lib/spill/index.js';

describe('byte-writing', () => {
  it('copyBytes copies every length at any offsets, as Buffer#copy does, and returns where the copy ends', () => {
    const from = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let length = 0; length <= 13; length++) {
      for (const [start, at] of [[0, 0], [1, 3], [7, 2], [50, 5]] as const) {
        const to = Buffer.alloc(32, 0xee);
        const expected = Buffer.alloc(32, 0xee);
        from.copy(expected, at, start, start + length);
        expect(copyBytes(viewOf(from), start, start + length, viewOf(to), at)).to.equal(at + length);
        expect(to.toString('hex'), `length ${length} from ${start} to ${at}`).to.equal(expected.toString('hex'));
      }
    }
  });

  it('viewOf sees only the buffer it is given, not the rest of a shared ArrayBuffer', () => {
    const whole = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const view = viewOf(whole.subarray(2, 5));
    expect(view.byteLength).to.equal(3);
    expect(view.getUint8(0)).to.equal(3);
  });
});
