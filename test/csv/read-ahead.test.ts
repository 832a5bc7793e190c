/** csv.read's file source, which keeps one read ahead of the parser. */
import { expect } from 'chai';
import { csv, run } from '../../lib/index.js';
import { collector, rejection } from '../helpers/csv.js';
import { numberedCsv, openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';

describe('csv.read() file reading', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it('reads every byte once, in order, whatever the chunk size', async () => {
    const file = await dir.write('chunks.csv', numberedCsv(2000));
    for (const chunkSize of [7, 4096, 1 << 20]) {
      const source = csv.read(file, { chunkSize });
      const sink = collector<string[]>();
      await run(source, sink);
      expect(sink.rows.map((row) => row[0])).to.deep.equal(Array.from({ length: 2000 }, (_, i) => String(i + 1)));
      expect(source.bytesIn).to.equal(Buffer.byteLength(numberedCsv(2000)));
    }
  });

  it('fails with a read error (a directory) and leaves no descriptor open', async () => {
    const error = await rejection(run(csv.read(dir.path), collector()));
    expect(error.code).to.equal('EISDIR');
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });
});
