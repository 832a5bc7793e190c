/** csv.format with sluice's formatter: which formatter runs, and text in pieces. */
import { expect } from 'chai';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csv, originOf, type CsvFormatOptions } from '../../lib/index.js';
import { CsvOrigin } from '../../lib/csv/raw-line.js';
import { FastRowFormatter } from '../../lib/csv/formatter.js';
import { setOrigin } from '../../lib/core/origin.js';
import { parseChunks, thrown } from '../helpers/csv.js';

async function used(options: CsvFormatOptions): Promise<string | null> {
  const stage = csv.format(options);
  stage.resume();
  stage.end(['a', 'b']);
  await once(stage, 'end');
  return stage.formatterUsed;
}

describe('csv.format() formatter', () => {
  it("uses sluice's formatter by default and fast-csv's when asked", async () => {
    expect(await used({})).to.equal('sluice');
    expect(await used({ delimiter: ';', quote: "'", rowDelimiter: '\r\n', quoteColumns: [true], headers: ['x', 'y'] })).to.equal('sluice');
    expect(await used({ formatter: 'fast-csv' })).to.equal('fast-csv');
  });

  it('falls back to fast-csv for options the formatter does not take', async () => {
    expect(await used({ quoteColumns: { a: true } })).to.equal('fast-csv');
    expect(await used({ delimiter: '.' })).to.equal('fast-csv');
    expect(await used({ delimiter: '::' })).to.equal('fast-csv');
    expect(await used({ escape: '\\' } as CsvFormatOptions)).to.equal('fast-csv');
  });

  it('throws a TypeError for an unknown formatter', () => {
    const error = thrown(() => csv.format({ formatter: 'papa' as never }));
    expect(error).to.be.instanceOf(TypeError);
    expect(error.message).to.equal("csv.format(): expected `formatter` to be one of 'auto', 'fast-csv', got `papa` (string)");
  });

  it('passes text on in pieces, not one write per row', async () => {
    const writes: number[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk.length);
        callback();
      },
    });
    const rows = Array.from({ length: 5000 }, (_, i) => [i, 'row']);
    await pipeline(Readable.from(rows, { highWaterMark: 1000 }), csv.format(), sink);
    expect(writes.reduce((a, b) => a + b, 0)).to.equal(rows.reduce((sum, [i]) => sum + `${i},row\n`.length, 0));
    expect(writes.length).to.be.below(100);
    expect(Math.max(...writes)).to.be.at.most(16_384);
  });

  it('a row arriving alone is passed on without waiting for more', async () => {
    const stage = csv.format();
    const texts: string[] = [];
    stage.on('data', (chunk: Buffer) => texts.push(chunk.toString()));
    stage.write(['first']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(texts).to.deep.equal(['first']);
    stage.end(['second']);
    await once(stage, 'end');
    expect(texts.join('')).to.equal('first\nsecond\n');
  });

  describe('copying parsed lines', () => {
    const options = { delimiter: ',', quote: '"', rowDelimiter: '\n', includeEndRowDelimiter: true, quoteColumns: false, headers: null, writeHeaders: false, alwaysWriteHeaders: false };
    /** A row whose origin claims a raw line that differs from its fields, to see which one is written. */
    const marked = (fields: string[], text: string) => {
      const row = [...fields];
      setOrigin(row, new CsvOrigin('t', 1, { text, fields: [...fields], delimiter: ',', quote: '"' }));
      return row;
    };

    it('copies the raw line of an unchanged row, and formats what was appended', () => {
      const formatter = new FastRowFormatter(options);
      const row = marked(['a', 'b'], 'RAW');
      expect(formatter.format(row)).to.equal('RAW');
      const appended = [...row, 'c,d'];
      setOrigin(appended, new CsvOrigin('t', 1, { text: 'RAW', fields: ['a', 'b'], delimiter: ',', quote: '"' }));
      expect(formatter.format(appended)).to.equal('\nRAW,"c,d"');
    });

    it('formats the fields when the row changed, or the line holds what this formatter quotes', () => {
      const row = marked(['a', 'b'], 'RAW');
      row[1] = 'changed';
      expect(new FastRowFormatter(options).format(row)).to.equal('a,changed');
      expect(new FastRowFormatter(options).format(marked(['a|b'], 'a|b'))).to.equal('"a|b"');
      expect(new FastRowFormatter({ ...options, delimiter: ';' }).format(marked(['a', 'b'], 'RAW'))).to.equal('a;b');
      expect(new FastRowFormatter({ ...options, quoteColumns: [false, true] }).format(marked(['a', 'b'], 'RAW'))).to.equal('a,"b"');
      // Whitespace at a field's edge is quoted, so such a line is not copied (issue 11).
      expect(new FastRowFormatter(options).format(marked([' a', 'b\t'], 'RAW'))).to.equal('" a","b\t"');
    });

    it('csv.parse attaches raw lines to plain array rows only', async () => {
      const parsed = await parseChunks(['h1,h2\nplain,row\n"quoted",row\n'], {});
      expect(CsvOrigin.rawOf(originOf(parsed.rows[0]))?.text).to.equal('plain,row');
      expect(CsvOrigin.rawOf(originOf(parsed.rows[1]))).to.equal(undefined);
      const objects = await parseChunks(['h1,h2\nplain,row\n'], { rows: 'objects' });
      expect(CsvOrigin.rawOf(originOf(objects.rows[0]))).to.equal(undefined);
    });
  });
});
