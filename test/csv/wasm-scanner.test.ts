/**
 * The WebAssembly boundary scanner (lib/csv/wasm-scanner.ts), and the rows read with it
 * (lib/csv/wasm-rows.ts), against a small RFC 4180 reference splitter written here: the same rows and field boundaries on generated inputs
 * split into random chunks, and "fallback" exactly at the first row the reference finds
 * malformed (a stray quote, text after a closing quote, a quote left open).
 * `SLUICE_PROPERTY_SCALE=10 npx mocha test/csv/wasm-scanner.test.ts` runs 10× the cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WasmRows, type WasmRowsResult } from '../../lib/csv/wasm-rows.js';
import { FieldTests } from '../../lib/csv/field-tests.js';
import { WasmCsvScanner } from '../../lib/csv/wasm-scanner.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';

const runs = (n: number) => ({ numRuns: Math.round(n * scale) });

/** Each row as its fields' [start, end) byte ranges (quotes included); `bad`: the first malformed row. */
interface Split {
  rows: [number, number][][];
  bad: number | null;
}

const QUOTE = 0x22;
const LF = 10;
const CR = 13;

/** RFC 4180, byte by byte: what the kernel must find. */
function reference(bytes: Uint8Array, delimiter = 0x2c, stripBom = true): Split {
  const n = bytes.length;
  const rows: [number, number][][] = [];
  let i = stripBom && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const isEnd = (c: number | undefined) => c === undefined || c === delimiter || c === LF || c === CR;
  while (i < n) {
    const fields: [number, number][] = [];
    for (;;) {
      const start = i;
      if (bytes[i] === QUOTE) {
        i++;
        for (;;) {
          if (i >= n) return { rows, bad: rows.length };
          if (bytes[i] === QUOTE) {
            if (bytes[i + 1] === QUOTE) i += 2;
            else break;
          } else i++;
        }
        i++;
        if (!isEnd(bytes[i])) return { rows, bad: rows.length };
      } else {
        while (!isEnd(bytes[i])) {
          if (bytes[i] === QUOTE) return { rows, bad: rows.length };
          i++;
        }
      }
      fields.push([start, i]);
      if (bytes[i] !== delimiter) break;
      i++;
    }
    rows.push(fields);
    // bytes[i] is a line break or the end: CR, LF or CRLF ends the row.
    if (bytes[i] === CR) i += bytes[i + 1] === LF ? 2 : 1;
    else if (bytes[i] === LF) i++;
  }
  return { rows, bad: null };
}

/** The kernel's split of `bytes` given in chunks ending at `cuts` (its list of row ends checked on the way). */
function kernel(bytes: Uint8Array, cuts: number[], delimiter = ',', stripBom = true): Split {
  const scanner = WasmCsvScanner.create({ delimiter, quote: '"', escape: '"' }, stripBom)!;
  const rows: [number, number][][] = [];
  let fields: [number, number][] = [];
  let fieldStart = -1;
  // Reads `count` entries (offsets into the chunk at `base`); false when it was a fallback.
  const take = (result: number, base: number): boolean => {
    const count = result < 0 ? ~result : result;
    const entries = scanner.entries;
    const ends = [...entries.subarray(0, count)].flatMap((e, k) => (e < 0 ? [k] : []));
    expect([...scanner.rowEnds.subarray(0, scanner.rowCount)]).to.deep.equal(ends);
    for (let k = 0; k < count; k++) {
      const e = entries[k];
      if (fieldStart === -1) fieldStart = scanner.bom; // decided by the first entry
      if (e >= 0) {
        fields.push([fieldStart, base + e]);
        fieldStart = base + e + 1;
      } else {
        rows.push(fields);
        fields = [];
        fieldStart = base + ~e;
      }
    }
    return result >= 0;
  };
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const chunk = bytes.subarray(from, cut);
    for (let at = 0; at < chunk.length; at += scanner.capacity) {
      const to = Math.min(chunk.length, at + scanner.capacity);
      if (!take(scanner.scan(chunk, at, to), from)) return { rows, bad: rows.length };
    }
    if (cut < bytes.length) from = cut;
  }
  if (!take(scanner.finish(bytes.length - from), from)) return { rows, bad: rows.length };
  return { rows, bad: null };
}

const split = (text: string | Uint8Array, cuts: number[] = []): Split => kernel(typeof text === 'string' ? Buffer.from(text) : text, cuts);

/** Cut points in [1, length): a sorted, deduplicated set. */
const cutsOf = (length: number) =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 12 })
    .map((cuts) => [...new Set(cuts.filter((c) => c < length))].sort((a, b) => a - b));

const unit = fc.constantFrom('a', 'b', ' ', '\t', 'é', '€', '😀', '\uFEFF', ',', '"', '\r', '\n');
const plain = fc.string({ unit: unit.filter((c) => !',"\r\n'.includes(c)), maxLength: 6 });
const quoted = fc.string({ unit, maxLength: 6 }).map((s) => `"${s.replaceAll('"', '""')}"`);
/** Anything, quotes included: mostly malformed. */
const junk = fc.string({ unit, maxLength: 4 });
/** A quoted field with text after its closing quote (malformed when that text is not empty). */
const trailed = fc.tuple(quoted, plain).map(([q, p]) => q + p);
const field = fc.oneof({ arbitrary: plain, weight: 5 }, { arbitrary: quoted, weight: 4 }, { arbitrary: junk, weight: 1 }, { arbitrary: trailed, weight: 1 });
const row = fc.tuple(fc.array(field, { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\r\n', '\r'));
const document = fc
  .tuple(fc.boolean(), fc.array(row, { maxLength: 8 }), fc.boolean())
  .map(([bom, rows, finalBreak]) => {
    let text = (bom ? '\uFEFF' : '') + rows.map(([fields, eol]) => fields.join(',') + eol).join('');
    if (!finalBreak && rows.length > 0) text = text.slice(0, text.length - rows[rows.length - 1][1].length);
    return Buffer.from(text);
  });

describe('WasmCsvScanner (the WebAssembly boundary kernel)', function () {
  this.timeout(scaledTimeout);
  it('is built and loads', () => {
    expect(WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })).to.be.instanceOf(WasmCsvScanner);
  });

  it('gives null where the module was not built (a copy of the loader without wasm/ beside it)', async () => {
    // The copy stays inside the repository (its git-ignored tmp/): imported from the system's
    // temporary folder, tsx starts a loader thread of its own that outlives the test.
    const inRepo = new URL('../../tmp/', import.meta.url).pathname;
    await mkdir(inRepo, { recursive: true });
    const dir = await mkdtemp(join(inRepo, 'wasm-loader-'));
    try {
      const copy = join(dir, 'csv/wasm-scanner.ts');
      await mkdir(join(dir, 'csv'));
      await mkdir(join(dir, 'core'));
      await writeFile(copy, await readFile(new URL('../../lib/csv/wasm-scanner.ts', import.meta.url)));
      await writeFile(join(dir, 'core/caller-file.ts'), await readFile(new URL('../../lib/core/caller-file.ts', import.meta.url)));
      const loader = (await import(pathToFileURL(copy).href)) as typeof import('../../lib/csv/wasm-scanner.js');
      expect(loader.WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })).to.equal(null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds fields and rows across LF, CRLF and CR, with and without a final line break', () => {
    expect(split('a,bc\r\n,d\re\n\n"x,\n""y"\r')).to.deep.equal({
      rows: [[[0, 1], [2, 4]], [[6, 6], [7, 8]], [[9, 10]], [[11, 11]], [[12, 20]]],
      bad: null,
    });
    expect(split('a,b')).to.deep.equal({ rows: [[[0, 1], [2, 3]]], bad: null });
    expect(split('')).to.deep.equal({ rows: [], bad: null });
  });

  it('carries quotes, a CR before an LF and a byte-order mark across chunk boundaries', () => {
    const text = '\uFEFF"a\r\nb",c\r\nd\r\n';
    const whole = split(text);
    expect(whole).to.deep.equal({ rows: [[[3, 9], [10, 11]], [[13, 14]]], bad: null });
    for (let cut = 1; cut < Buffer.byteLength(text); cut++) expect(split(text, [cut])).to.deep.equal(whole);
  });

  it('keeps a byte-order mark as data when told to, and a broken one always', () => {
    expect(kernel(Buffer.from('\uFEFFa\n'), [], ',', false).rows).to.deep.equal([[[0, 4]]]);
    expect(split(Buffer.from([0xef, 0xbb, 0x41, 0x0a]), [1]).rows).to.deep.equal([[[0, 3]]]);
  });

  it('falls back at the row of a stray quote, text after a closing quote, or an open quote', () => {
    expect(split('a,b\nc"d\ne\n')).to.deep.equal({ rows: [[[0, 1], [2, 3]]], bad: 1 });
    expect(split('a\n"b"c,d\n')).to.deep.equal({ rows: [[[0, 1]]], bad: 1 });
    expect(split('a\n"b"', [4])).to.deep.equal({ rows: [[[0, 1]], [[2, 5]]], bad: null });
    expect(split('a\n"b"x', [5])).to.deep.equal({ rows: [[[0, 1]]], bad: 1 });
    expect(split('a\n"b\nc\n')).to.deep.equal({ rows: [[[0, 1]]], bad: 1 });
  });

  it('resumes at a row start after reset()', () => {
    const scanner = WasmCsvScanner.create({ delimiter: ';', quote: "'", escape: "'" })!;
    expect(scanner.scan(Buffer.from("a'b"), 0, 3)).to.equal(~0);
    scanner.reset();
    expect(scanner.scan(Buffer.from("'x;''';y\n"), 0, 9)).to.equal(3);
    expect([...scanner.entries.subarray(0, 3)]).to.deep.equal([6, 8, ~9]);
  });

  it('reads a chunk larger than its capacity in pieces, and refuses a larger piece', () => {
    const scanner = WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })!;
    const big = Buffer.from(`${'x'.repeat(scanner.capacity)},y\n`);
    expect(split(big)).to.deep.equal({ rows: [[[0, scanner.capacity], [scanner.capacity + 1, scanner.capacity + 2]]], bad: null });
    expect(() => scanner.scan(big, 0, big.length)).to.throw(RangeError, 'are not within one piece of 65536');
  });

  it('never grows its memory: the views stay attached through any input', () => {
    const scanner = WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })!;
    const entries = scanner.entries;
    const worst = Buffer.from('\n'.repeat(scanner.capacity));
    expect(scanner.scan(worst, 0, worst.length)).to.equal(2 * scanner.capacity);
    const quoted = Buffer.from('"\r\n,""'.repeat(10_000));
    for (let at = 0; at < quoted.length; at += scanner.capacity) scanner.scan(quoted, at, Math.min(quoted.length, at + scanner.capacity));
    expect(scanner.entries).to.equal(entries);
    expect(entries.byteLength).to.equal((2 * scanner.capacity + 2) * 4);
    expect(entries[2 * scanner.capacity - 1]).to.equal(~scanner.capacity);
  });

  it('gives no module for a dialect it cannot read (the JS scanner reads it)', () => {
    expect(WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '\\' })).to.equal(null);
    expect(WasmCsvScanner.create({ delimiter: '§', quote: '"', escape: '"' })).to.equal(null);
    expect(WasmCsvScanner.create({ delimiter: '"', quote: '"', escape: '"' })).to.equal(null);
  });

  it('equals the RFC 4180 reference on generated inputs split at random chunk boundaries', () => {
    fc.assert(
      fc.property(document.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length))), ([bytes, cuts]) => {
        expect(kernel(bytes, cuts)).to.deep.equal(reference(bytes));
      }),
      runs(1000),
    );
  });

  it('never falls back on well-formed input (quoted fields anywhere, multi-byte text)', () => {
    const good = fc.array(fc.tuple(fc.array(fc.oneof(plain, quoted), { minLength: 1, maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 10 })
      .map((rows) => Buffer.from(rows.map(([fields, eol]) => fields.join(',') + eol).join('')));
    fc.assert(
      fc.property(good.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length))), ([bytes, cuts]) => {
        const result = kernel(bytes, cuts);
        expect(result.bad).to.equal(null);
        expect(result).to.deep.equal(reference(bytes));
      }),
      runs(500),
    );
  });
});

/** The reference's rows as WasmRows gives them: decoded fields, widths, lines, and the rest after a fallback. */
function referenceRows(bytes: Buffer, columns: readonly number[] | null) {
  const { rows, bad } = reference(bytes);
  const decode = ([start, end]: [number, number]): string =>
    bytes[start] === QUOTE ? bytes.toString('utf8', start + 1, end - 1).replaceAll('""', '"') : bytes.toString('utf8', start, end);
  const breaks = ([start, end]: [number, number]): number =>
    [...bytes.subarray(start, end)].filter((c, i, all) => c === LF || (c === CR && all[i + 1] !== LF)).length;
  const fields = rows.map((row) => row.map(decode));
  let rest: Buffer | null = null;
  if (bad !== null) {
    let from = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (bad > 0) {
      const end = rows[bad - 1].at(-1)![1];
      from = bytes[end] === CR && bytes[end + 1] === LF ? end + 2 : end + 1;
    }
    rest = bytes.subarray(from);
  }
  return {
    rows: columns ? fields.map((row) => columns.map((c) => row[c])) : fields,
    widths: rows.map((row) => row.length),
    lines: rows.map((row) => 1 + row.reduce((sum, field) => sum + breaks(field), 0)),
    rest,
  };
}

/** WasmRows over `bytes` given in chunks ending at `cuts`. */
function wasmRows(bytes: Buffer, cuts: number[], columns: readonly number[] | null) {
  const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns })!;
  const out = { rows: [] as (string[] | null)[], widths: [] as number[], lines: [] as number[], rest: null as Buffer | null };
  // After a fallback, the rest and the input not given yet go to the JS scanner.
  const add = (result: WasmRowsResult, unread: number): boolean => {
    out.rows.push(...(result.rows as (string[] | null)[])); // (no TextRows: not asked for)
    out.widths.push(...result.widths);
    out.lines.push(...result.lines);
    if (result.fallback) out.rest = Buffer.concat([reader.rest(), bytes.subarray(unread)]);
    return !result.fallback;
  };
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (!add(reader.push(bytes.subarray(from, cut)), cut)) return out;
    from = cut;
  }
  add(reader.end(), bytes.length);
  return out;
}

describe('WasmRows (rows read with the WebAssembly kernel)', function () {
  this.timeout(scaledTimeout);
  it('decodes quoted fields, counts lines inside them, and projects', () => {
    const text = Buffer.from('\uFEFFa,"b ""q""\r\nc",é\r"x\ny",,z\n');
    expect(wasmRows(text, [5, 12], null)).to.deep.equal({
      rows: [['a', 'b "q"\r\nc', 'é'], ['x\ny', '', 'z']], widths: [3, 3], lines: [2, 2], rest: null,
    });
    expect(wasmRows(text, [], [2, 0, 5]).rows).to.deep.equal([['é', 'a', undefined], ['z', 'x\ny', undefined]]);
  });

  it('hands the rest to the JS scanner from the row it cannot read, and refuses more input', () => {
    const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' })!;
    expect(reader.push(Buffer.from('a,b\nc"d,'))).to.deep.equal({ rows: [['a', 'b']], widths: [2], lines: [1], fallback: true });
    expect(reader.rest().toString()).to.equal('c"d,');
    expect(() => reader.push(Buffer.from('e\n'))).to.throw('WasmRows: the input goes on with the JS scanner after a fallback');
  });

  it('makes strings of the projected fields only, wherever the chunks cut the rows (control: all fields)', () => {
    const proto = WasmRows.prototype as unknown as { field(start: number, end: number): string };
    const field = proto.field;
    let made = 0;
    proto.field = function (this: unknown, start: number, end: number) {
      made++;
      return field.call(this, start, end);
    };
    try {
      const text = Buffer.from(Array.from({ length: 50 }, (_, i) => `a${i},b,"c${i}",d,e,f,"g,${i}",h\n`).join(''));
      const cuts = [5, 17, 40, 200, 333, 334, 700];
      const projected = wasmRows(text, cuts, [2, 6]);
      expect(projected.rows[49]).to.deep.equal(['c49', 'g,49']);
      expect([projected.rows.length, made]).to.deep.equal([50, 100]);
      made = 0;
      expect(wasmRows(text, cuts, null).rows).to.have.length(50);
      expect(made).to.equal(400);
    } finally {
      proto.field = field;
    }
  });

  it('keeps a long row across chunks, and tells its size so far', () => {
    const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' })!;
    const long = 'x'.repeat(300_000);
    for (let at = 0; at < long.length; at += 65_536) expect(reader.push(Buffer.from(long.slice(at, at + 65_536))).rows).to.deep.equal([]);
    expect(reader.pendingBytes).to.equal(300_000);
    expect(reader.push(Buffer.from(',y\nz')).rows).to.deep.equal([[long, 'y']]);
    expect(reader.pendingBytes).to.equal(1);
    expect(reader.end().rows).to.deep.equal([['z']]);
  });

  it('projects rows of more than one call\'s output (64 KiB of tiny rows), and long rows across chunks', () => {
    const tiny = Buffer.from(Array.from({ length: 60_000 }, (_, i) => (i % 2 === 0 ? '\n' : `${i % 10}\n`)).join(''));
    const scanner = WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })!;
    scanner.project([0, 1]);
    expect(scanner.scanProjected(tiny, 0, 65_536)).to.be.below(65_536 / 1.5);
    expect(scanner.consumed).to.be.below(65_536); // (the output filled up: the call stopped early)
    expect(wasmRows(tiny, [], [1, 0])).to.deep.equal(referenceRows(tiny, [1, 0]));
    const long = Buffer.from(`${'a'.repeat(70_000)},${'b'.repeat(70_000)},c\r\nd,e,f`);
    expect(wasmRows(long, [65_536, 65_537, 140_002], [2, 1])).to.deep.equal(referenceRows(long, [2, 1]));
  });

  it('drops the rows a fused where fails in the kernel: no record, counted before the next one (control: no conditions)', () => {
    // Rows 1, 3 and 6 fail `0 in [NJ]`; row 4 has a quote and row 5 another width: only the JS tests could drop those.
    const text = Buffer.from('NJ,a,x\nNY,b,y\nNJ,c,z\nNY,"d",w\nNY,e\nNY,f,v\nNX,g,u\nNJ,h,t\n');
    const conditions = FieldTests.of([{ slot: 0, values: ['NJ'] }], QUOTE)!.encoded()!;
    const scan = (withConditions: boolean) => {
      const scanner = WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' })!;
      expect(scanner.project([0, 1], withConditions ? conditions : null)).to.equal(true);
      scanner.dropWidth(3);
      const count = scanner.scanProjected(text, 0, text.length);
      const records = Array.from({ length: count }, (_, r) => Array.from(scanner.entries.subarray(r * scanner.stride, (r + 1) * scanner.stride)));
      return { records: records.map((record) => text.toString('latin1', record[2], record[3])), drops: records.map((record) => record.slice(4, -2)), tail: scanner.droppedTail };
    };
    expect(scan(false)).to.deep.equal({ records: ['a', 'b', 'c', '"d"', 'e', 'f', 'g', 'h'], drops: [[], [], [], [], [], [], [], []], tail: 0 });
    const start = (line: number) => text.toString('latin1').split('\n').slice(0, line - 1).join('\n').length + 1;
    expect(scan(true)).to.deep.equal({ records: ['a', 'c', '"d"', 'e', 'h'], drops: [[0, 0], [1, start(3)], [0, start(3)], [0, start(3)], [2, start(8)]], tail: 0 });
    // Through WasmRows, cut into chunks: the rows either drops are runs (null, their count as width, their lines).
    const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns: [0, 1], where: [{ column: 0, values: ['NJ'] }] })!;
    reader.expectWidth(3);
    const results = [reader.push(text.subarray(0, 9)), reader.push(text.subarray(9, 30)), reader.push(text.subarray(30)), reader.end()];
    expect([results.flatMap((result) => result.rows), results.flatMap((result) => result.widths), results.flatMap((result) => result.lines)]).to.deep.equal([
      [['NJ', 'a'], null, ['NJ', 'c'], null, ['NY', 'e'], null, ['NJ', 'h']], [3, 1, 3, 1, 2, 2, 3], [1, 1, 1, 1, 1, 2, 1],
    ]);
  });

  it('after rows only the kernel dropped, a fallback hands the JS scanner the rest from the row it cannot read (not from the start)', () => {
    const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns: [0], where: [{ column: 0, values: [''] }] })!;
    reader.expectWidth(3);
    const result = reader.push(Buffer.from('NJ,a,b\nNY,c,d\nx"y,e,\nz,f,g\n'));
    expect([result.rows, result.widths, result.lines, result.fallback]).to.deep.equal([[null], [2], [2], true]);
    expect(reader.rest().toString()).to.equal('x"y,e,\nz,f,g\n');
  });

  it('projects columns the kernel cannot keep itself (past index 254, more than 16) by the entry scan', () => {
    const wide = Buffer.from(`${Array.from({ length: 300 }, (_, i) => `f${i}`).join(',')}\n`);
    for (const columns of [[299, 0], Array.from({ length: 17 }, (_, i) => 16 - i)]) {
      expect(wasmRows(wide, [100, 900], columns)).to.deep.equal(referenceRows(wide, columns));
    }
  });

  for (const columns of [null, [2, 0, 2, 7]]) {
    it(`equals the reference's decoded rows, widths, lines and rest (${columns ? 'projected' : 'all fields'})`, () => {
      fc.assert(
        fc.property(document.chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length))), ([bytes, cuts]) => {
          expect(wasmRows(bytes, cuts, columns)).to.deep.equal(referenceRows(bytes, columns));
        }),
        runs(500),
      );
    });
  }
});
