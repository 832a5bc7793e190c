/**
 * csv.parse with sluice's scanner: which parser runs, the `columns` option, and the places
 * where the stage now behaves the same for any chunking (a mid-file BOM, lines under trim).
 */
import { expect } from 'chai';
import { CsvError, csv, originOf, run, type Reject } from '../../lib/index.js';
import { bytes, collector, parseChunks, thrown } from '../helpers/csv.js';

describe('csv.parse() scanner', () => {
  describe('parser option', () => {
    it("uses sluice's scanner by default and fast-csv when asked", () => {
      expect(csv.parse().parser).to.equal('sluice');
      expect(csv.parse({ delimiter: ';', quote: "'", escape: '\\', trim: true }).parser).to.equal('sluice');
      expect(csv.parse({ parser: 'fast-csv' }).parser).to.equal('fast-csv');
    });

    it('falls back to fast-csv for characters the scanner does not take', () => {
      expect(csv.parse({ delimiter: '\n' }).parser).to.equal('fast-csv');
      expect(csv.parse({ quote: ' ' }).parser).to.equal('fast-csv');
      expect(csv.parse({ delimiter: '"' }).parser).to.equal('fast-csv');
    });

    it('trim, ltrim and rtrim take booleans (TypeError naming the option otherwise)', () => {
      for (const name of ['trim', 'ltrim', 'rtrim'] as const) {
        expect(csv.parse({ [name]: true }).parser).to.equal('sluice');
        const error = thrown(() => csv.parse({ [name]: 'yes' as never }));
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(`csv.parse(): expected \`${name}\` to be a boolean, got \`yes\` (string)`);
      }
    });

    it('throws a TypeError for an unknown parser', () => {
      const error = thrown(() => csv.parse({ parser: 'papaparse' as never }));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal("csv.parse(): expected `parser` to be one of 'auto', 'fast-csv', got `papaparse` (string)");
    });
  });

  describe('the same for any chunking', () => {
    it('keeps a byte-order mark after the start of the input as data, wherever the chunks split', async () => {
      const input = Buffer.from('\ufeffa\n1\n\ufeff2\n');
      for (const parser of ['auto', 'fast-csv'] as const) {
        for (let i = 0; i <= input.length; i++) {
          const parsed = await parseChunks([input.subarray(0, i), input.subarray(i)], { parser });
          expect(parsed.rows, `${parser}, split at ${i}`).to.deep.equal([['1'], ['\ufeff2']]);
        }
      }
    });

    it('trim does not change line numbers (a trimmed line break still counts); sluice keeps text inside quotes', async () => {
      for (const parser of ['auto', 'fast-csv'] as const) {
        const parsed = await parseChunks(['a\n "\nx\n" \ny\n'], { parser, trim: true });
        expect(parsed.rows).to.deep.equal([[parser === 'auto' ? '\nx\n' : 'x'], ['y']]);
        expect(parsed.lines).to.deep.equal([2, 5]);
      }
    });
  });

  describe('columns', () => {
    const input = 'id,name,city,zip\n1,Ann,Oslo,0150\n2,"Bo, Jr.",Rome,00100\n';

    it('keeps the given indexes of array rows, in that order, with lines and origins', async () => {
      for (const parser of ['auto', 'fast-csv'] as const) {
        const parsed = await parseChunks([input], { columns: [2, 0, 2], parser, source: 'in.csv' });
        expect(parsed.rows).to.deep.equal([
          ['Oslo', '1', 'Oslo'],
          ['Rome', '2', 'Rome'],
        ]);
        expect(parsed.lines).to.deep.equal([2, 3]);
        expect(originOf(parsed.rows[1])).to.deep.equal({ source: 'in.csv', line: 3 });
      }
    });

    it('keeps the named columns of object rows; the stage keeps every header name', async () => {
      const parser = csv.parse({ rows: 'objects', columns: ['zip', 'name'] });
      const sink = collector();
      await run(bytes([input.slice(0, 20), input.slice(20)]), parser, sink);
      expect(sink.rows).to.deep.equal([
        { zip: '0150', name: 'Ann' },
        { zip: '00100', name: 'Bo, Jr.' },
      ]);
      expect(parser.headers).to.deep.equal(['id', 'name', 'city', 'zip']);
    });

    it('works without a header line and with header names given', async () => {
      expect((await parseChunks(['1,2,3\n4,5,6\n'], { header: false, columns: [1] })).rows).to.deep.equal([['2'], ['5']]);
      const named = await parseChunks(['1,2,3\n4,5,6\n'], { header: ['a', 'b', 'c'], rows: 'objects', columns: ['c'] });
      expect(named.rows).to.deep.equal([{ c: '3' }, { c: '6' }]);
    });

    it('still checks every row for its full field count', async () => {
      const parsed = await parseChunks(['a,b,c\n1,2,3\n4,5\n'], { columns: [0] });
      expect(parsed.rows).to.deep.equal([['1']]);
      expect(parsed.error?.message).to.equal('csv, line 3: expected 3 fields, got 2');
    });

    it("rejects a ragged row with the fields it has, and with ragged: 'keep' fails on a row lacking a column", async () => {
      const received: Reject[] = [];
      const sink = collector();
      await run(bytes(['a,b,c\n1,2,3\n4\n']), csv.parse({ columns: [2, 0], ragged: 'reject' }), sink, { rejects: (r) => void received.push(r) });
      expect(sink.rows).to.deep.equal([['3', '1']]);
      expect(received.map((r) => [r.reason, r.row, r.origin?.line])).to.deep.equal([['expected 3 fields, got 1', [undefined, '4'], 3]]);
      const kept = await parseChunks(['a,b,c\n1,2,3,4\n5,6\n'], { columns: [2], ragged: 'keep' });
      expect(kept.rows).to.deep.equal([['3']]);
      expect(kept.error).to.be.instanceOf(CsvError);
      expect(kept.error?.message).to.equal('csv, line 3: the row has 2 fields, no column 2');
    });

    it('fails at the header when it lacks a column', async () => {
      const byIndex = await parseChunks(['a,b\n1,2\n'], { columns: [5] });
      expect(byIndex.error?.message).to.equal('csv, line 1: the header has 2 columns, no column 5');
      const byName = await parseChunks(['\na,b\n1,2\n'], { rows: 'objects', columns: ['c'] });
      expect(byName.error?.message).to.equal('csv, line 2: the header has no column "c"');
    });

    const invalid: [unknown, string][] = [
      [{ columns: [] }, 'csv.parse(): expected `columns` to be a non-empty array of column indexes (integers from 0), got an array of length 0'],
      [{ columns: [1, -1] }, 'csv.parse(): expected `columns` to be a non-empty array of column indexes (integers from 0), got an array of length 2'],
      [{ columns: ['a'] }, 'csv.parse(): expected `columns` to be a non-empty array of column indexes (integers from 0), got an array of length 1'],
      [{ columns: [0], rows: 'objects' }, 'csv.parse(): expected `columns` to be a non-empty array of column names (rows are objects), got an array of length 1'],
      [{ columns: 'a' }, 'csv.parse(): expected `columns` to be a non-empty array of column indexes (integers from 0), got `a` (string)'],
      [{ columns: [2], header: ['a', 'b'] }, 'csv.parse(): expected `columns` to be columns of `header` (2 names), got `2` (number)'],
      [{ columns: ['c'], header: ['a', 'b'], rows: 'objects' }, 'csv.parse(): expected `columns` to be columns of `header` (2 names), got `c` (string)'],
    ];
    for (const [options, message] of invalid) {
      it(`throws a TypeError for ${JSON.stringify(options)}`, () => {
        const error = thrown(() => csv.parse(options as never));
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      });
    }
  });
});
