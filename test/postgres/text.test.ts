import { expect } from 'chai';
import fc from 'fast-check';
import { copyField, copyLine, copyLineDecoder, toPgText, type PgText } from '../../lib/postgres/text.js';

/** Text that COPY must escape, and text that looks like its escapes. */
const text = fc.array(fc.constantFrom('a', 'xyz', '', '\t', '\n', '\r', '\\', '\\N', 'N', '\\t', 'é', '😀', ' ', '"', ',', '\u2028'), { maxLength: 6 }).map((parts) => parts.join(''));
const value: fc.Arbitrary<PgText> = fc.oneof({ weight: 4, arbitrary: text }, { weight: 1, arbitrary: fc.constant(null) });

describe('copyLineDecoder (COPY text format → rows, pure)', () => {
  it('undoes copyLine for any text and NULLs, as arrays and as objects (2,000 random rows)', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), (values) => {
        const names = values.map((_, i) => `c${i}`);
        const parsers = values.map(() => null);
        const line = copyLine(values);
        expect(copyLineDecoder(names, parsers, 'array')(line)).to.deep.equal(values);
        expect(copyLineDecoder(names, parsers, 'object')(line)).to.deep.equal(Object.fromEntries(names.map((name, i) => [name, values[i]])));
      }),
      { numRuns: 2_000, seed: 42 },
    );
  });

  it('decodes the escapes the server may send (\\b \\f \\v, octal, hex) as fromCopyField does', () => {
    const decode = copyLineDecoder(['a', 'b', 'c'], [null, null, null], 'array');
    expect(decode('x\\by\\f\tz\\v\\101\\x42\t\\N')).to.deep.equal(['x\by\f', 'z\vAB', null]);
  });

  it('calls a column’s parser for its non-NULL values only; null parsers keep the text', () => {
    const seen: string[] = [];
    const decode = copyLineDecoder(['n', 't', 'b'], [(v) => (seen.push(v), Number(v)), null, (v) => v === 't'], 'object');
    expect(decode('12\tplain\tt')).to.deep.equal({ n: 12, t: 'plain', b: true });
    expect(decode('\\N\ta\\\\b\tf')).to.deep.equal({ n: null, t: 'a\\b', b: false });
    expect(seen).to.deep.equal(['12']);
  });

  it('gives every object row the same own keys in column order, even `__proto__`; a repeated name keeps the later value', () => {
    const decode = copyLineDecoder(['__proto__', 'a', 'a'], [null, null, null], 'object');
    const row = decode('{}\t1\t2') as Record<string, unknown>;
    expect(Object.getPrototypeOf(row)).to.equal(Object.prototype);
    expect(Object.keys(row)).to.deep.equal(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).to.equal('{}');
    expect(row.a).to.equal('2');
  });
});

describe('copyField (a value → a COPY field, pure)', () => {
  it('is copyLine of toPgText, for every kind of value (5,000 random values)', () => {
    const anyValue = fc.oneof(
      text,
      fc.constant(null),
      fc.constant(undefined),
      fc.double(),
      fc.integer(),
      fc.bigInt(),
      fc.boolean(),
      fc.date({ noInvalidDate: false }), // years -271821 to 275760, and the invalid Date
      fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
      fc.array(fc.oneof(text, fc.constant(null), fc.integer()), { maxLength: 3 }),
      fc.dictionary(text, text, { maxKeys: 2 }),
    );
    fc.assert(
      fc.property(anyValue, (value) => {
        let expected: string | Error;
        try {
          expected = copyLine([toPgText(value)]);
        } catch (error) {
          expected = error as Error;
        }
        if (expected instanceof Error) expect(() => copyField(value)).to.throw(TypeError, expected.message);
        else expect(copyField(value)).to.equal(expected);
      }),
      { numRuns: 5_000, seed: 7 },
    );
  });

  it('writes Dates exactly as toISOString, in every year it can (0–9999 quickly, the rest by toISOString)', () => {
    for (const time of [Date.UTC(0, 0, 1), Date.UTC(-1, 11, 31, 23, 59, 59, 999), Date.UTC(999, 5, 6, 7, 8, 9, 10), 0, -1, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), 8.64e15, -8.64e15]) {
      const date = new Date(time);
      expect(copyField(date), date.toISOString()).to.equal(date.toISOString());
      expect(toPgText(date)).to.equal(date.toISOString());
    }
    expect(() => copyField(new Date(NaN))).to.throw(TypeError, 'an invalid Date');
  });
});
