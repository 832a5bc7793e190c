/**
 * Rows that pass through untouched (lib/csv/formatter.ts copies a parsed row's raw line, the
 * parser's `edgeSpace` flag deciding whether its fields need checking) against formatting the
 * same rows field by field (fresh arrays, which carry no raw line): byte-identical text, on
 * generated CSV read by csv.parse (its WebAssembly path where it reads) in random chunks —
 * quotes, CR/LF, multi-byte UTF-8, whitespace at field edges (NBSP and U+FEFF too), `|` — with
 * the rows as read, a column appended, edited in place, or replaced by equal copies, under
 * formatter options that match the input's dialect or not.
 * `SLUICE_PROPERTY_SCALE=10 npx mocha test/csv/pass-through.test.ts` runs 10× the cases.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { addColumn, csv, map, originOf, run, type Stage } from '../../lib/index.js';
import { FastRowFormatter, type FastFormatOptions } from '../../lib/csv/formatter.js';
import { CsvOrigin } from '../../lib/csv/raw-line.js';
import { bytes, collector } from '../helpers/csv.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';

const numRuns = Math.max(1, Math.round(300 * scale));

const bare = fc.string({ unit: fc.constantFrom('a', 'Zoë', '€', '😀', ' ', '\t', '\u00a0', '\uFEFF', '|', '1', '-'), maxLength: 4 });
const anyText = fc.string({ unit: fc.constantFrom('a', 'é', ' ', ',', '"', '\n', '\r', '\r\n', '|'), maxLength: 4 });
/** A field as a CSV writer would put it: bare when nothing in it needs quotes, quoted otherwise (and sometimes when not needed). */
const cell = fc.oneof({ weight: 5, arbitrary: bare }, { weight: 2, arbitrary: anyText }).chain((text) =>
  /[",\r\n]/.test(text) ? fc.constant(`"${text.replaceAll('"', '""')}"`) : fc.constantFrom(text, text, `"${text}"`),
);
const csvText = fc
  .array(fc.tuple(fc.array(cell, { minLength: 1, maxLength: 5 }), fc.constantFrom('\n', '\n', '\r\n')), { minLength: 1, maxLength: 12 })
  .map((lines) => lines.map(([cells, end]) => cells.join(',') + end).join(''));

const formatOptions = fc.record({
  delimiter: fc.constantFrom(',', ',', ';'),
  rowDelimiter: fc.constantFrom('\n', '\r\n', '|'),
  includeEndRowDelimiter: fc.boolean(),
  quoteColumns: fc.constantFrom<FastFormatOptions['quoteColumns']>(false, [false, false], [false, true]),
});

type Edit = 'as read' | 'appended' | 'edited in place' | 'equal copies';
const edits: Record<Edit, () => Stage<string[], string[]>> = {
  'as read': () => map((row: string[]) => row),
  appended: () => addColumn('n', (row: string[]) => ` ${row.length}`) as unknown as Stage<string[], string[]>,
  'edited in place': () => map((row: string[]) => {
    row[row.length - 1] += 'x';
    return row;
  }),
  'equal copies': () => map((row: string[]) => row.map((field) => `${field}`)),
};

/** The text of these rows from one formatter. */
function formatted(rows: readonly string[][], options: FastFormatOptions): string {
  const formatter = new FastRowFormatter(options);
  return rows.map((row) => formatter.format(row)).join('') + formatter.finish();
}

/** Cuts `input` at random offsets. */
const chunksOf = (input: Buffer, seed: number): Buffer[] => {
  const chunks: Buffer[] = [];
  let random = seed;
  for (let at = 0; at < input.length; ) {
    random = (random * 1_103_515_245 + 12_345) % 2 ** 31;
    const size = 1 + (random % 9);
    chunks.push(input.subarray(at, at + size));
    at += size;
  }
  return chunks;
};

describe('csv.format copying parsed lines (pass-through) vs formatting every field (differential)', function () {
  this.timeout(scaledTimeout);
  it('writes the same bytes for rows as read, appended to, edited or copied', async () => {
    let copied = 0;
    await fc.assert(
      fc.asyncProperty(csvText, fc.nat(), fc.constantFrom<Edit>('as read', 'appended', 'edited in place', 'equal copies'), formatOptions, async (text, seed, edit, options) => {
        const sink = collector<string[]>();
        await run(bytes(chunksOf(Buffer.from(text), seed)), csv.parse({ header: false, ragged: 'keep' }), edits[edit](), sink);
        const rows = sink.rows;
        copied += rows.filter((row) => CsvOrigin.rawOf(originOf(row)) !== undefined).length;
        const full: FastFormatOptions = { quote: '"', headers: null, writeHeaders: false, alwaysWriteHeaders: false, ...options };
        const fresh = rows.map((row) => [...row]);
        expect(fresh.every((row) => CsvOrigin.rawOf(originOf(row)) === undefined)).to.equal(true);
        expect(formatted(rows, full)).to.equal(formatted(fresh, full));
      }),
      { numRuns },
    );
    // The property met raw lines (else it compared formatting with itself).
    expect(copied).to.be.greaterThan(numRuns / 4);
  });

  it('the parser marks a row whose fields may have whitespace at an edge, so its line is not copied', async () => {
    const sink = collector<string[]>();
    await run(bytes(['a,b\n a,b\na,b\u00a0\na\t,b\n']), csv.parse({ header: false }), sink);
    const flags = sink.rows.map((row) => CsvOrigin.rawOf(originOf(row))?.edgeSpace);
    expect(flags).to.deep.equal([false, true, true, true]);
    const options: FastFormatOptions = { delimiter: ',', quote: '"', rowDelimiter: '\n', includeEndRowDelimiter: true, quoteColumns: false, headers: null, writeHeaders: false, alwaysWriteHeaders: false };
    expect(formatted(sink.rows, options)).to.equal('a,b\n" a",b\na,"b\u00a0"\n"a\t",b\n');
  });
});
