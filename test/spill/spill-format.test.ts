import { expect } from 'chai';
import fc from 'fast-check';
import { originOf, setOrigin } from '../../lib/core/origin.js';
import { RecordReader, RecordWriter, SpillFormatError, checkHeader, header } from '../../lib/spill/spill-format.js';

function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const key = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('__proto__', 'constructor', 'toString', ''));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.constantFrom(-0, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE),
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.date({ noInvalidDate: false }),
    fc.uint8Array().map((a) => Buffer.from(a)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { maxLength: 50 }), // a CSV row: the Strings tag
    fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(objectOf),
  ),
}));

function roundTrip(rows: unknown[]): unknown[] {
  const w = new RecordWriter();
  for (const r of rows) w.add(r);
  const bytes = w.take();
  const reader = new RecordReader('run-1');
  const { rows: out, used } = reader.records(bytes);
  reader.finish(bytes.length - used);
  return out;
}

describe('spill format', () => {
  it('round-trips every value a row can hold (property)', () => {
    fc.assert(fc.property(fc.array(value, { maxLength: 8 }), (rows) => {
      expect(roundTrip(rows)).to.deep.equal(rows);
    }), { numRuns: 300 });
  });

  it('keeps -0, NaN, ±Infinity, lone surrogates, bigints and a __proto__ own key exactly', () => {
    const row = objectOf([['__proto__', { polluted: true }], ['n', [-0, NaN, Infinity, -Infinity]], ['s', 'a\uD800b\u0000\n"é😀'], ['b', -(2n ** 70n)], ['d', new Date(0)], ['buf', Buffer.from([0, 255])]]);
    const [back] = roundTrip([row]) as [Record<string, unknown>];
    expect(Object.getPrototypeOf(back)).to.equal(Object.prototype);
    expect(Object.keys(back)).to.deep.equal(['__proto__', 'n', 's', 'b', 'd', 'buf']);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.is((back.n as number[])[0], -0)).to.equal(true);
    expect(back.s).to.equal('a\uD800b\u0000\n"é😀');
    expect(back.b).to.equal(-(2n ** 70n));
    expect(back).to.deep.equal(row);
  });

  it('keeps the origin of a row', () => {
    const row = ['a'];
    setOrigin(row, { source: 'in.csv', line: 7 });
    const [back] = roundTrip([row, ['b']]);
    expect(originOf(back)).to.deep.equal({ source: 'in.csv', line: 7 });
  });

  it('reads records split across chunks (the rest waits for the next chunk)', () => {
    const w = new RecordWriter();
    w.add({ a: 1 });
    w.add({ b: 'two' });
    const bytes = w.take();
    const reader = new RecordReader('run');
    const first = reader.records(bytes.subarray(0, bytes.length - 3));
    expect(first.rows).to.deep.equal([{ a: 1 }]);
    const second = reader.records(bytes.subarray(first.used));
    expect(second.rows).to.deep.equal([{ b: 'two' }]);
    expect(first.used + second.used).to.equal(bytes.length);
  });

  it('fails loudly on a truncated file', () => {
    const w = new RecordWriter();
    w.add({ a: 1 });
    const bytes = w.take().subarray(0, -2);
    const reader = new RecordReader('/tmp/x/run-3');
    const { rows, used } = reader.records(bytes);
    expect(rows).to.deep.equal([]);
    expect(() => reader.finish(bytes.length - used)).to.throw(SpillFormatError, `/tmp/x/run-3 is truncated: ${bytes.length} byte(s) of an incomplete record at its end`);
  });

  it('fails loudly on any flipped byte of a payload (checksum)', () => {
    const w = new RecordWriter();
    w.add({ make: 'FORD', n: 12 });
    const bytes = w.take();
    for (let i = 8; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i] ^= 0x10;
      expect(() => new RecordReader('run-2').records(bad), `byte ${i}`).to.throw(SpillFormatError, 'run-2 is corrupted');
    }
  });

  it('keeps arrays of strings (CSV rows) exactly: empty, long, unicode, lone surrogates', () => {
    const rows = [[''], ['', ''], ['a'.repeat(70_000), 'é😀', ''], ['\uD800', 'x'], ['a\uDC00b'], [], ['1', 2]];
    expect(roundTrip(rows)).to.deep.equal(rows);
  });

  it('checks the header and its version', () => {
    expect(() => checkHeader(header(), 'f')).not.to.throw();
    expect(() => checkHeader(Buffer.from('hello world'), 'f')).to.throw('f is not a sluice spill file (bad header)');
    const v1 = header();
    v1[v1.length - 1] = 1;
    expect(() => checkHeader(v1, 'f')).to.throw('f has spill format version 1; this sluice reads version 2');
  });

  it('refuses values it cannot restore', () => {
    expect(() => new RecordWriter().add({ f: () => 1 })).to.throw(SpillFormatError, 'a function cannot be spilled to disk');
    expect(() => new RecordWriter().add({ s: Symbol('x') })).to.throw(SpillFormatError, 'a symbol cannot be spilled to disk');
  });
});
