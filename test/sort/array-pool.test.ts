import { expect } from 'chai';
import { give, take } from '../../lib/sort/array-pool.js';
import { freeSoon } from '../../lib/spill/index.js';

const make = (n: number) => new Uint32Array(n);
const whole = (buffer: ArrayBuffer) => new Uint32Array(buffer);

describe('array-pool', () => {
  it('take() gives a zeroed view of a pooled array large enough, else a new one', () => {
    const pool = [new Uint32Array(8).fill(7)];
    const a = take(pool, 5, make);
    expect([...a]).to.deep.equal([0, 0, 0, 0, 0]);
    expect(a.buffer.byteLength).to.equal(32);
    expect(pool).to.have.length(0);
    expect(take(pool, 5, make).buffer).to.not.equal(a.buffer);
  });

  it('give() keeps the larger of the given array (whole) and the pooled one', () => {
    const pool: Uint32Array[] = [];
    give(pool, new Uint32Array(16).subarray(0, 3), whole);
    expect(pool[0]!.length).to.equal(16);
    give(pool, new Uint32Array(4), whole);
    expect(pool[0]!.length).to.equal(16);
    give(pool, new Uint32Array(32), whole);
    expect(pool[0]!.length).to.equal(32);
  });

  it('freeSoon() detaches the buffer (its memory moves to an object nothing refers to)', () => {
    const a = new Float64Array(1024);
    freeSoon(a.buffer);
    expect(a.buffer.byteLength).to.equal(0);
    expect(a.length).to.equal(0);
    expect(() => freeSoon(a.buffer)).to.not.throw(); // already detached: nothing to do
  });
});
