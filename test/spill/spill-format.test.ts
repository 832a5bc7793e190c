import { crc32 } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import { originOf, setOrigin } from '../../lib/core/origin.js';
import { CsvOrigin, type RawLine } from '../../lib/csv/raw-line.js';
import { BLOCK, BlockFramer } from '../../lib/spill/blocks.js';
import { RecordReader, RecordWriter, SpillFormatError, checkHeader, header } from '../../lib/spill/spill-format.js';
import { TextRow } from '../../lib/core/text-row.js';

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

/** Rows encoded and framed in blocks, as a run file holds them after its header. */
function framed(rows: unknown[]): Buffer {
  const w = new RecordWriter();
  for (const r of rows) w.add(r);
  const framer = new BlockFramer();
  const parts: Buffer[] = [];
  // Each framed buffer is valid until the next is asked for: copied as it comes.
  for (const b of framer.frame(w.take())) parts.push(Buffer.from(b));
  for (const b of framer.end()) parts.push(Buffer.from(b));
  return Buffer.concat(parts);
}

/** The rows of the blocks wholly inside `bytes`, and the bytes those blocks take. */
function readBlocks(reader: RecordReader, bytes: Buffer): { rows: unknown[]; used: number } {
  reader.load(bytes);
  const rows: unknown[] = [];
  for (let row = reader.next(); row !== undefined; row = reader.next()) rows.push(row);
  return { rows, used: reader.used };
}

function roundTrip(rows: unknown[]): unknown[] {
  const bytes = framed(rows);
  const reader = new RecordReader('run-1');
  const { rows: out, used } = readBlocks(reader, bytes);
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

  it('keeps the raw line of an unchanged CSV row (for csv.format to copy), not of a changed one', () => {
    const raw = (text: string, delimiter: string, edgeSpace?: boolean): RawLine => ({ text, fields: text.split(delimiter), delimiter, quote: '"', edgeSpace });
    const rows = [raw('a,b, c', ',', true), raw('x;;é', ';', false), raw('only', ','), raw(',,', ','), raw('a::b::', '::'), raw('p,q', ',')].map((line, i) => {
      const row = [...line.fields];
      setOrigin(row, new CsvOrigin('in.csv', i + 2, line));
      return row;
    });
    rows[5]![1] = 'changed';
    const back = roundTrip(rows) as string[][];
    expect(back).to.deep.equal([['a', 'b', ' c'], ['x', '', 'é'], ['only'], ['', '', ''], ['a', 'b', ''], ['p', 'changed']]);
    expect(back.map((row) => originOf(row))).to.deep.equal([2, 3, 4, 5, 6, 7].map((line) => ({ source: 'in.csv', line })));
    const lines = back.map((row) => CsvOrigin.rawOf(originOf(row)));
    expect(lines.slice(0, 5)).to.deep.equal([raw('a,b, c', ',', true), raw('x;;é', ';', false), raw('only', ','), raw(',,', ','), raw('a::b::', '::')]);
    expect(lines[5]).to.equal(undefined);
    // The line's fields are a copy: changing the row later is noticed by csv.format.
    expect(lines[0]!.fields).to.not.equal(back[0]);
  });

  it('keeps a text row as a text row: its text, delimiter, width, edge-space flag, fields read (one past the end of the row: undefined) and origin; one with a value added as its fields', () => {
    const rows = [new TextRow('a,b,c', ',', 3, false, ['b', 'a']), new TextRow('x;; é', ';', 3, true, []), new TextRow('😀|q', '|', 2, false, ['😀']), new TextRow('k,v', ',', 2, false, [undefined as unknown as string, 'k'])];
    rows.forEach((row, i) => setOrigin(row, { source: 'in.csv', line: i + 2 }));
    const added = new TextRow('p,q', ',', 2, false, ['q']);
    added.appended = [7];
    setOrigin(added, { source: 'in.csv', line: 9 });
    const back = roundTrip([...rows, added]);
    expect(back.slice(0, 4)).to.deep.equal(rows);
    for (const row of back.slice(0, 4)) expect(row).to.be.instanceOf(TextRow);
    expect(back.map((row) => originOf(row))).to.deep.equal([2, 3, 4, 5, 9].map((line) => ({ source: 'in.csv', line })));
    expect(back[4]).to.deep.equal(['p', 'q', 7]);
  });

  it('fails loudly on a raw line whose field count does not match', () => {
    const row = ['a', 'b'];
    setOrigin(row, new CsvOrigin('in.csv', 2, { text: 'a,b', fields: ['a', 'b'], delimiter: ',', quote: '"' }));
    const w = new RecordWriter();
    w.add(row);
    const record = w.take();
    // The record: length, origin (flag, source, line), then the RawLine tag and the field count.
    const count = 4 + 1 + 4 + 'in.csv'.length + 8 + 1;
    expect(record[count]).to.equal(2);
    for (const wrong of [0, 1, 3]) {
      record[count] = wrong;
      expect(() => new RecordReader('run-1').record(record, 0)).to.throw(SpillFormatError, 'run-1 is corrupted');
    }
  });

  it('a sequential writer names a repeated origin source once; the reader restores every origin', () => {
    const rows = Array.from({ length: 40 }, (_, i) => {
      const row = [String(i)];
      setOrigin(row, { source: i < 30 ? 'in.csv' : 'other.csv', line: i + 2 });
      return row;
    });
    const plain = new RecordWriter();
    const sequential = new RecordWriter(1 << 10, true);
    for (const r of rows) {
      plain.add(r);
      sequential.add(r);
    }
    expect(plain.length - sequential.length).to.equal(29 * (4 + 'in.csv'.length) + 9 * (4 + 'other.csv'.length));
    const framer = new BlockFramer();
    const parts: Buffer[] = [];
    for (const b of framer.frame(sequential.take())) parts.push(Buffer.from(b));
    for (const b of framer.end()) parts.push(Buffer.from(b));
    const back = readBlocks(new RecordReader('run-5'), Buffer.concat(parts)).rows;
    expect(back).to.deep.equal(rows);
    expect(back.map(originOf)).to.deep.equal(rows.map(originOf));
    // After take() the writer starts over: the next chunk names its source again.
    sequential.add(rows[0]);
    expect(originOf(new RecordReader('run-6').record(sequential.take(), 0))).to.deep.equal({ source: 'in.csv', line: 2 });
  });

  it('fails loudly on a repeated origin source with none before it', () => {
    const w = new RecordWriter();
    const row = ['a'];
    setOrigin(row, { source: 'in.csv', line: 2 });
    w.add(row);
    const records = w.take();
    // The origin flag (1: a source follows) turned into 2 (the last record's source), with no last record.
    const bad = Buffer.concat([records.subarray(0, 4), Buffer.from([2]), records.subarray(4 + 1 + 4 + 'in.csv'.length)]);
    bad.writeUInt32LE(bad.length - 4, 0);
    expect(() => new RecordReader('run-7').record(bad, 0)).to.throw(SpillFormatError, 'run-7 is corrupted: a record does not decode');
  });

  it('reads blocks split across chunks (the rest waits for the next chunk)', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ i, s: 'x'.repeat(i % 50) }));
    const bytes = framed(rows);
    const reader = new RecordReader('run');
    const first = readBlocks(reader, bytes.subarray(0, bytes.length - 3));
    expect(first.rows.length).to.be.greaterThan(0).and.lessThan(rows.length);
    const second = readBlocks(reader, bytes.subarray(first.used));
    expect([...first.rows, ...second.rows]).to.deep.equal(rows);
    expect(first.used + second.used).to.equal(bytes.length);
  });

  it('frames blocks of at most 64 kB of records, a larger record in a block of its own', () => {
    const big = 'b'.repeat(BLOCK * 2);
    const rows = [...Array.from({ length: 2000 }, (_, i) => [String(i).repeat(20)]), [big], ['after']];
    const bytes = framed(rows);
    const sizes: number[] = [];
    for (let at = 0; at < bytes.length; at += 8 + bytes.readUInt32LE(at)) sizes.push(bytes.readUInt32LE(at));
    expect(sizes.length).to.be.greaterThan(2);
    expect(sizes.filter((n) => n > BLOCK)).to.have.length(1);
    expect(roundTrip(rows)).to.deep.equal(rows);
  });

  it('fails loudly on a truncated file', () => {
    const bytes = framed([{ a: 1 }]).subarray(0, -2);
    const reader = new RecordReader('/tmp/x/run-3');
    const { rows, used } = readBlocks(reader, bytes);
    expect(rows).to.deep.equal([]);
    expect(() => reader.finish(bytes.length - used)).to.throw(SpillFormatError, `/tmp/x/run-3 is truncated: ${bytes.length} byte(s) of an incomplete block at its end`);
  });

  it('fails loudly on any flipped byte of a block (checksum)', () => {
    const bytes = framed([{ make: 'FORD', n: 12 }, ['a', 'b']]);
    for (let i = 4; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i] ^= 0x10;
      expect(() => readBlocks(new RecordReader('run-2'), bad), `byte ${i}`).to.throw(SpillFormatError, 'run-2 is corrupted');
    }
  });

  it('fails loudly on a block whose checksum matches but whose records do not fill it', () => {
    const w = new RecordWriter();
    w.add(['a']);
    const records = w.take();
    records.writeUInt32LE(records.length, 0); // the record claims more bytes than the block has
    const head = Buffer.alloc(8);
    head.writeUInt32LE(records.length, 0);
    head.writeUInt32LE(crc32(records), 4);
    const bytes = Buffer.concat([head, records]);
    expect(() => readBlocks(new RecordReader('run-4'), bytes)).to.throw(SpillFormatError, 'run-4 is corrupted: a record does not decode');
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
    expect(() => checkHeader(v1, 'f')).to.throw('f has spill format version 1; this sluice reads version 5');
  });

  it('refuses values it cannot restore', () => {
    expect(() => new RecordWriter().add({ f: () => 1 })).to.throw(SpillFormatError, 'a function cannot be spilled to disk');
    expect(() => new RecordWriter().add({ s: Symbol('x') })).to.throw(SpillFormatError, 'a symbol cannot be spilled to disk');
  });
});
