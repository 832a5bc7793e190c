/**
 * csv.parse's WebAssembly path (lib/csv/wasm-parse.ts) against its JS scanner (the reference,
 * `SLUICE_CSV_WASM=0`): on generated CSV bytes split at random chunk boundaries — quotes
 * anywhere, LF/CRLF/CR, multi-byte UTF-8, a byte-order mark, empty lines, ragged and malformed
 * rows — the same rows, line numbers, raw lines and errors (message, line, column), for arrays,
 * objects and projections.
 * `SLUICE_PROPERTY_SCALE=10 npx mocha test/csv/wasm-parse.test.ts` runs 10× the cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { csv, originOf, type CsvParseOptions } from '../../lib/index.js';
import { CsvOrigin } from '../../lib/csv/raw-line.js';
import { WasmRows } from '../../lib/csv/wasm-rows.js';
import { bytes } from '../helpers/csv.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';

const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * scale)) });

const unit = fc.constantFrom('a', 'b', ' ', '\t', 'é', '€', '😀', '\uFEFF', ',', '"', '\r', '\n');
const plain = fc.string({ unit: unit.filter((c) => !',"\r\n'.includes(c)), maxLength: 5 });
const quoted = fc.string({ unit, maxLength: 5 }).map((s) => `"${s.replaceAll('"', '""')}"`);
/** Anything, quotes included: mostly malformed. */
const junk = fc.string({ unit, maxLength: 4 });
const field = fc.oneof({ arbitrary: plain, weight: 6 }, { arbitrary: quoted, weight: 4 }, { arbitrary: junk, weight: 1 });
const row = fc.tuple(fc.array(field, { minLength: 0, maxLength: 4 }), fc.constantFrom('\n', '\r\n', '\r'));
/** Rows of mostly three fields (some ragged, some empty), with or without a BOM and a final line break. */
const document = fc
  .tuple(fc.boolean(), fc.array(row, { maxLength: 10 }), fc.boolean(), fc.boolean())
  .map(([bom, rows, finalBreak, regular]) => {
    const lines = rows.map(([fields, eol]) => (regular && fields.length > 0 ? [...fields, 'x', 'y', 'z'].slice(0, 3) : fields).join(',') + eol);
    let text = (bom ? '\uFEFF' : '') + lines.join('');
    if (!finalBreak && rows.length > 0) text = text.slice(0, text.length - rows[rows.length - 1][1].length);
    return Buffer.from(text);
  });

/** `bytes` cut at these sorted offsets. */
function chunked(input: Buffer, cuts: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut > from) chunks.push(input.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return chunks;
}
const cutsOf = (length: number) =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 10 }).map((cuts) => [...new Set(cuts)].sort((a, b) => a - b));

interface Outcome {
  rows: unknown[];
  lines: (number | undefined)[];
  raws: (string | undefined)[];
  error: { message: string; line: unknown; column: unknown } | null;
  /** Whether the WebAssembly reader read to the end (no fallback). */
  wasm: boolean;
}

/** What csv.parse gives for these chunks, with the WebAssembly path on or off. */
async function parsed(chunks: readonly Buffer[], options: CsvParseOptions, wasm: boolean): Promise<Outcome> {
  const before = process.env.SLUICE_CSV_WASM;
  if (wasm) delete process.env.SLUICE_CSV_WASM;
  else process.env.SLUICE_CSV_WASM = '0';
  const parser = csv.parse(options);
  const out: Outcome = { rows: [], lines: [], raws: [], error: null, wasm: false };
  parser.on('data', (row: unknown) => {
    out.rows.push(row);
    out.lines.push(originOf(row)?.line);
    out.raws.push(CsvOrigin.rawOf(originOf(row))?.text);
  });
  const source = bytes(chunks);
  source.pipe(parser);
  try {
    await once(parser, 'end');
  } catch (error) {
    const e = error as Error & { line?: unknown; column?: unknown };
    out.error = { message: e.message, line: e.line, column: e.column };
    source.destroy();
  } finally {
    if (before === undefined) delete process.env.SLUICE_CSV_WASM;
    else process.env.SLUICE_CSV_WASM = before;
  }
  out.wasm = (parser as unknown as { wasm: unknown }).wasm instanceof WasmRows;
  return out;
}

const cases: [string, CsvParseOptions][] = [
  ['arrays under a header line', {}],
  ['arrays, no header, ragged kept, empty lines kept', { header: false, ragged: 'keep', ignoreEmpty: false }],
  ['arrays projected (columns)', { columns: [2, 0] }],
  ['arrays projected, no header', { header: false, columns: [1, 1, 0] }],
  ['objects under a header line', { rows: 'objects' }],
  ['objects under given names, projected', { rows: 'objects', header: ['a', 'b', 'c'], columns: ['c', 'a'] }],
  ['arrays, strict UTF-8, small maxRowBytes', { invalidUtf8: 'fail', maxRowBytes: 24 }],
];

describe('csv.parse with the WebAssembly reader (against the JS scanner)', function () {
  this.timeout(scaledTimeout);
  for (const [name, options] of cases) {
    it(`gives the same rows, lines, raw lines and errors: ${name}`, async () => {
      let fast = 0;
      await fc.assert(
        fc.asyncProperty(document.chain((input) => fc.tuple(fc.constant(input), cutsOf(input.length))), async ([input, cuts]) => {
          const chunks = chunked(input, cuts);
          const wasm = await parsed(chunks, options, true);
          const js = await parsed(chunks, options, false);
          expect(js.wasm).to.equal(false);
          if (wasm.wasm) fast++;
          expect({ ...wasm, wasm: false }).to.deep.equal(js);
        }),
        runs(300),
      );
      // The fast path was taken to the end in a good share of the cases (the rest fell back).
      expect(fast).to.be.greaterThan(runs(300).numRuns / 20);
    });
  }

  it('reads a clean file to the end with the WebAssembly reader after the header chunk, and falls back at a stray quote', async () => {
    const text = Buffer.from('\uFEFFa,b\n1,"x\r\ny"\n\n2,é\n');
    const wasm = await parsed([text.subarray(0, 7), text.subarray(7)], { ignoreEmpty: false, ragged: 'keep' }, true);
    expect(wasm).to.deep.equal({
      rows: [['1', 'x\r\ny'], [], ['2', 'é']], lines: [2, 4, 5], raws: [undefined, undefined, '2,é'], error: null, wasm: true,
    });
    const stray = await parsed([Buffer.from('a,b\n'), Buffer.from('1,2\n3,x"y\n4,5\n')], {}, true);
    expect(stray).to.deep.include({ rows: [['1', '2'], ['3', 'x"y'], ['4', '5']], wasm: false });
  });

  for (const columns of [null, [0, 1, 3]]) {
    it(`a row kept after its chunk holds its own text, not the chunk's (${columns ? 'projected' : 'all fields'})`, () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      // 62 chunks of 64 KiB, fields of 13 characters and more (which V8 would slice as views into a larger string).
      const line = (i: number) => `${String(i).padStart(13, '0')},2016-07-01T00:00:00.000,ATLANTIC AVENUE NORTH,${'x'.repeat(40)}\n`;
      const input = Buffer.from(Array.from({ length: 40_000 }, (_, i) => line(i)).join(''));
      const reader = WasmRows.create({ delimiter: ',', quote: '"', escape: '"' }, { columns, raw: columns === null })!;
      const kept: string[][] = [];
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let at = 0; at < input.length; at += 65_536) kept.push(reader.push(input.subarray(at, at + 65_536)).rows[0] as string[]);
      gc();
      const held = process.memoryUsage().heapUsed - before;
      expect(kept).to.have.length(62);
      // The first row the second chunk completes: row 648 (of 101 bytes), cut by the chunk boundary.
      expect(kept[1]).to.deep.equal(columns ? ['0000000000648', '2016-07-01T00:00:00.000', 'x'.repeat(40)] : line(648).slice(0, -1).split(','));
      // 62 rows of 101 bytes, each holding its ~1 KiB segment (~100 KB with the arrays); a kept chunk each would be 4 MB.
      expect(held).to.be.below(1 << 20);
    });
  }
});
