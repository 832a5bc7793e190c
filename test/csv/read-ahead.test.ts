/** csv.read's file source, which keeps one read ahead of the parser and lends it its read buffers. */
import { expect } from 'chai';
import { Readable } from 'node:stream';
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

  it('reads a file of many 1 MiB reads as csv.parse reads its bytes, whatever the chunk size (read buffers reused)', async () => {
    const line = (i: number) => `${i},"a ""q"", b\nc",é${'x'.repeat(i % 97)},${i % 7 === 0 ? '' : 'z'}\n`;
    const text = `id,quoted,long,last\n${Array.from({ length: 45_000 }, (_, i) => line(i)).join('')}`;
    expect(Buffer.byteLength(text)).to.be.above(3 << 20);
    const file = await dir.write('many-reads.csv', text);
    const reference = collector<string[]>();
    await run(Readable.from([Buffer.from(text)]), csv.parse(), reference);
    for (const chunkSize of [4096, 65_536, 3 << 20]) {
      const sink = collector<string[]>();
      await run(csv.read(file, { chunkSize }), sink);
      expect(sink.rows.length, `chunkSize ${chunkSize}`).to.equal(45_000);
      expect(sink.rows, `chunkSize ${chunkSize}`).to.deep.equal(reference.rows);
    }
  });

  it('fails with a read error (a directory) and leaves no descriptor open', async () => {
    const error = await rejection(run(csv.read(dir.path), collector()));
    expect(error.code).to.equal('EISDIR');
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });
});
