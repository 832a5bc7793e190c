import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileWriter } from '../../lib/csv/file-writer.js';
import { rejectionOf } from '../helpers/streams.js';

/** Open descriptors of this process (Linux): a writer must leave none behind. */
const openFds = () => readdirSync('/proc/self/fd').length;

describe('FileWriter (the file behind csv.write: three reused buffers)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-file-writer-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes exactly the text given, in order, for any split — pieces larger than a buffer and multi-byte characters included', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 30 }), fc.integer({ min: 8, max: 64 }), async (pieces, size) => {
        const path = join(dir, `out-${n++}.txt`);
        await pipeline(Readable.from(pieces.filter((p) => p !== ''), { objectMode: true }), new FileWriter(path, size));
        expect(readFileSync(path, 'utf8')).to.equal(pieces.join(''));
      }),
      { numRuns: 200 },
    );
  });

  it('backpressure: past a full buffer, says "full" once 16 K characters wait (text waits upstream, not queued as strings)', async () => {
    const path = join(dir, 'backpressure.txt');
    const writer = new FileWriter(path, 1 << 20);
    await new Promise((resolve) => writer.write('', resolve)); // the file is open
    const piece = 'p'.repeat(100);
    let accepted = 0;
    while (writer.write(piece)) accepted++;
    // A buffer's worth encoded, then at most 16,384 characters queued behind its flush.
    expect(accepted * piece.length).to.be.at.least(1 << 20).and.at.most((1 << 20) + (1 << 14));
    expect(writer.writableLength).to.be.at.most((1 << 14) + piece.length);
    writer.end();
    await new Promise((resolve) => writer.once('close', resolve));
    expect(readFileSync(path, 'utf8')).to.equal(piece.repeat(accepted + 1));
  });

  it('fails with the write error (a full disk) and closes its descriptor', async () => {
    const before = openFds();
    const writer = new FileWriter('/dev/full', 16);
    const error = await rejectionOf(pipeline(Readable.from(['x'.repeat(10), 'y'.repeat(10), 'z'.repeat(10)]), writer));
    expect((error as NodeJS.ErrnoException).code).to.equal('ENOSPC');
    expect(writer.closed).to.equal(true);
    expect(openFds()).to.equal(before);
  });

  it('fails with the open error (a missing directory)', async () => {
    const error = await rejectionOf(pipeline(Readable.from(['x']), new FileWriter(join(dir, 'missing', 'out.txt'), 16)));
    expect((error as NodeJS.ErrnoException).code).to.equal('ENOENT');
  });

  it('destroyed while a write is in flight: closes the descriptor once that write is done', async () => {
    const before = openFds();
    const writer = new FileWriter(join(dir, 'destroyed.txt'), 16);
    await new Promise((resolve) => writer.write('a'.repeat(5), resolve)); // the file is open
    writer.write('b'.repeat(5)); // up to 15 more bytes could not fit: the first buffer goes out
    writer.destroy();
    await new Promise((resolve) => writer.once('close', resolve));
    expect(openFds()).to.equal(before);
  });
});
