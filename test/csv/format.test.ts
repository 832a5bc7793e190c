import { expect } from 'chai';
import { format as fastCsvFormat, type FormatterOptionsArgs } from 'fast-csv';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RowError, csv, run, type CsvFormatOptions } from '../../lib/index.js';
import { bytes, parseChunks, random, rejection, textSink, thrown } from '../helpers/csv.js';

type Row = unknown[] | Record<string, unknown>;

/** The text `csv.format(options)` makes of `rows`. */
async function formatted(rows: readonly Row[], options: CsvFormatOptions = {}): Promise<string> {
  const sink = textSink();
  await pipeline(Readable.from(rows), csv.format(options), sink);
  return sink.text();
}

/** The text fast-csv's own `format()` makes of `rows` (the reference for quoting). */
async function fastCsv(rows: readonly Row[], options: FormatterOptionsArgs<Row, Row>): Promise<string> {
  const sink = textSink();
  await pipeline(Readable.from(rows), fastCsvFormat(options), sink);
  return sink.text();
}

/** Fields full of what CSV must quote: delimiters, quotes, CR, LF, spaces, non-ASCII. */
function generatedRows(count: number, width: number, seed: number): string[][] {
  const next = random(seed);
  const pieces = [',', '"', '""', '\n', '\r\n', '\r', ' ', '\t', ';', 'a', 'Zoë', '😀', "'", '=1+2', '-5', '#', ''];
  const field = () => {
    let text = '';
    const length = Math.floor(next() * 5);
    for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)];
    return text;
  };
  return Array.from({ length: count }, () => Array.from({ length: width }, field));
}

describe('csv.format()', () => {
  describe('header', () => {
    it('writes a header from the keys of the first object row', async () => {
      expect(
        await formatted([
          { id: 1, name: 'Ann' },
          { id: 2, name: 'Bo' },
        ]),
      ).to.equal('id,name\n1,Ann\n2,Bo\n');
    });

    it('writes no header for array rows by default', async () => {
      expect(await formatted([[1, 'a'], [2, 'b']])).to.equal('1,a\n2,b\n');
    });

    it('headers as an array picks and orders the columns of object rows', async () => {
      expect(await formatted([{ a: 1, b: 2, c: 3 }], { headers: ['c', 'a'] })).to.equal('c,a\n3,1\n');
    });

    it('headers as an array is written even when no row arrives', async () => {
      expect(await formatted([], { headers: ['id', 'name'] })).to.equal('id,name\n');
    });

    it('headers as a function is called for the names', async () => {
      expect(await formatted([[1, 2]], { headers: () => ['x', 'y'] })).to.equal('x,y\n1,2\n');
      expect(await formatted([], { headers: () => ['x', 'y'] })).to.equal('x,y\n');
    });

    it('headers: false writes object rows without a header', async () => {
      expect(await formatted([{ a: 1, b: 2 }], { headers: false })).to.equal('1,2\n');
    });

    it('gives empty output for no rows and no header names', async () => {
      expect(await formatted([])).to.equal('');
      expect(await formatted([], { headers: true })).to.equal('');
    });
  });

  describe('rows', () => {
    it('fails on an array row of the wrong width, naming the row', async () => {
      const error = await rejection(formatted([[1, 2], [3], [4, 5]], { headers: ['a', 'b'] }));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('csv.format() failed on row 2: the row has 1 fields, the header 2');
      expect(error.row).to.equal(2);
    });

    it('names the source line of a parsed row in the error', async () => {
      const error = await rejection(
        run(bytes(['a,b,c\n1,2,3\n4,5\n']), csv.parse({ ragged: 'keep', source: 'in.csv' }), csv.format({ headers: ['a', 'b', 'c'] }), textSink()),
      );
      expect(error.message).to.equal('csv.format() failed on row 2 (in.csv, line 3): the row has 2 fields, the header 3');
    });

    it('fails on a row that is not an array or object', async () => {
      const error = await rejection(formatted([[1], 42 as never]));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('csv.format() failed on row 2: expected an array or object row, got a number');
    });

    it('ends the last row with a line break by default, and not with includeEndRowDelimiter: false', async () => {
      expect(await formatted([['a'], ['b']])).to.equal('a\nb\n');
      expect(await formatted([['a'], ['b']], { includeEndRowDelimiter: false })).to.equal('a\nb');
    });

    it('honours rowDelimiter, delimiter, quoteColumns and writeBOM', async () => {
      expect(await formatted([['a', 'b;c']], { rowDelimiter: '\r\n', delimiter: ';' })).to.equal('a;"b;c"\r\n');
      expect(await formatted([['a', 'b']], { quoteColumns: true })).to.equal('"a","b"\n');
      expect(await formatted([['a']], { writeBOM: true })).to.equal('\ufeffa\n');
    });

    it('formats null and undefined as empty fields', async () => {
      expect(await formatted([[null, undefined, 0, false]])).to.equal(',,0,false\n');
    });

    it('counts formatted rows in stats', async () => {
      const stage = csv.format();
      await pipeline(Readable.from([[1], [2], [3]]), stage, textSink());
      expect(stage.stats).to.deep.include({ in: 3, out: 3 });
    });
  });

  describe('quoting, compared with fast-csv format()', () => {
    const generated = generatedRows(300, 5, 42);
    // fast-csv's text is the reference only where it loses nothing: no whitespace at a
    // field's edge (see 'quotes what fast-csv would lose' below).
    const arrays = generated.map((row) => row.map((field) => field.trim()));

    it('array rows: identical text to fast-csv', async () => {
      const expected = await fastCsv(arrays, { includeEndRowDelimiter: true });
      expect(expected).to.include('""'); // the generated fields do need quoting
      expect(await formatted(arrays)).to.equal(expected);
    });

    it('object rows with a header: identical text to fast-csv', async () => {
      const objects = arrays.map(([a, b, c, d, e]) => ({ 'plain': a, 'with,comma': b, 'with "quote"': c, 'multi\nline': d, 'é': e }));
      const expected = await fastCsv(objects, { headers: true, includeEndRowDelimiter: true });
      expect(await formatted(objects)).to.equal(expected);
    });

    it('with a delimiter, quote and row delimiter of its own: identical text to fast-csv', async () => {
      const options = { delimiter: ';', quote: "'", rowDelimiter: '\r\n', includeEndRowDelimiter: true };
      expect(await formatted(arrays, options)).to.equal(await fastCsv(arrays, options));
    });

    it('with quoteColumns: identical text to fast-csv', async () => {
      const options = { quoteColumns: [true, false, true], includeEndRowDelimiter: true };
      expect(await formatted(arrays, options)).to.equal(await fastCsv(arrays, options));
    });

    it('round-trips through csv.parse field for field, whitespace included', async () => {
      const text = await formatted(generated, { headers: ['a', 'b', 'c', 'd', 'e'] });
      const parsed = await parseChunks([text], { ignoreEmpty: false });
      expect(parsed.error).to.equal(null);
      expect(parsed.rows).to.deep.equal(generated);
    });
  });

  describe('quotes what fast-csv would lose (issue 11)', () => {
    const cases: [string, unknown[][], string, string][] = [
      // [what, rows, sluice's text, fast-csv's text]
      ['a lone empty field', [['a'], [''], [null]], 'a\n""\n""\n', 'a\n\n\n'],
      ['whitespace-only values', [['\t', ' '], ['\u00a0']], '"\t"," "\n"\u00a0"\n', '\t, \n\u00a0\n'],
      ['leading and trailing whitespace', [[' a', 'b\t', 'c d']], '" a","b\t",c d\n', ' a,b\t,c d\n'],
      ['a U+FEFF starting the file, or a field', [['\ufeffa', '\ufeff']], '"\ufeffa","\ufeff"\n', '\ufeffa,\ufeff\n'],
      ['NUL, kept', [['a\0b', '\0']], 'a\0b,\0\n', 'ab,\n'],
    ];
    for (const [what, rows, text, fast] of cases) {
      it(`${what}: quoted (kept), and read back as written; fast-csv's text differs`, async () => {
        expect(await formatted(rows)).to.equal(text);
        expect(await fastCsv(rows, { includeEndRowDelimiter: true })).to.equal(fast);
        const parsed = await parseChunks([text], { header: false, ragged: 'keep' });
        expect(parsed.rows).to.deep.equal(rows.map((row) => row.map((v) => `${v ?? ''}`)));
        // A trimming reader (fast-csv's parser) reads them back too.
        const trimmed = await parseChunks([text], { header: false, ragged: 'keep', parser: 'fast-csv' });
        expect(trimmed.rows).to.deep.equal(parsed.rows);
      });
    }
  });

  describe('options', () => {
    it('throws a TypeError for headers of the wrong type', () => {
      const error = thrown(() => csv.format({ headers: 3 as never }));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('csv.format(): expected `headers` to be a boolean, an array of column names or a function returning one, got `3` (number)');
    });

    it('fails with a TypeError when headers() does not return names', async () => {
      const error = await rejection(formatted([[1]], { headers: () => 'id' as never }));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('csv.format(): expected `headers()` to be an array of column names, got `id` (string)');
    });

    it('does not mutate the options object', async () => {
      const options = Object.freeze({ headers: Object.freeze(['a']) as string[], delimiter: ';' });
      expect(await formatted([{ a: 1 }], options)).to.equal('a\n1\n');
      expect(options).to.deep.equal({ headers: ['a'], delimiter: ';' });
    });
  });

  it('is usable in run() to a byte sink', async () => {
    const sink = textSink();
    const summary = await run([{ a: 'x' }], csv.format(), sink);
    expect(sink.text()).to.equal('a\nx\n');
    expect(summary.written).to.equal(1);
  });
});
