/** csv.format with sluice's formatter: which formatter runs, and text in pieces. */
import { expect } from 'chai';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csv, type CsvFormatOptions } from '../../lib/index.js';
import { thrown } from '../helpers/csv.js';

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
    expect(error.message).to.equal("Expected `formatter` to be one of 'auto', 'fast-csv', got `papa` (string)");
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
});
