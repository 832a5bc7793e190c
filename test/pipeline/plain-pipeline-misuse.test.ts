import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csv, map } from '../../lib/index.js';
import { closed, collector, rejection } from '../helpers/csv.js';
import { openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';

/** Issue 12 §5: misuse in a plain stream.pipeline (no run()) fails the pipeline in the user's terms, never the process. */
describe('misuse in a plain stream.pipeline', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir('sluice-misuse-');
  });
  after(() => dir.remove());

  // Before: Node's ERR_INVALID_ARG_TYPE (`Received an instance of Array`) thrown out of the
  // pipe, uncaught, and the pipeline never settled.
  it('csv.read(file) then csv.parse(): rejects with a TypeError naming both; the file is closed', async () => {
    const file = await dir.write('a.csv', 'a,b\n1,2\n');
    const reader = csv.read(file);
    const err = await rejection(pipeline(reader as Readable, csv.parse() as unknown as Writable, collector()));
    expect(err).to.be.instanceOf(TypeError).with.property('message', 'csv.parse() expects bytes or text, got rows from csv.read()');
    await closed(reader); // stream.pipeline rejects at the first error; the reader closes its file just after
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('rows from map() or from any object-mode stream into csv.parse() say where they came from', async () => {
    const viaMap = await rejection(pipeline(Readable.from([{ a: 1 }]), map((row: unknown) => row) as unknown as Writable, csv.parse() as unknown as Writable, collector()));
    expect(viaMap.message).to.equal('csv.parse() expects bytes or text, got rows from map()');
    const plain = await rejection(pipeline(Readable.from([{ a: 1 }]), csv.parse() as unknown as Writable, collector()));
    expect(plain.message).to.equal('csv.parse() expects bytes or text, got objects from a stream in object mode');
  });

  it('csv.read() of an object-mode stream fails the same way', async () => {
    const reader = csv.read(Readable.from([['a', 'b']]));
    const err = await rejection(pipeline(reader as Readable, collector()));
    expect(err.message).to.equal('csv.read() expects bytes or text, got objects from a stream in object mode');
  });

  it('bytes, and strings from an object-mode stream, into csv.parse() are untouched by the check', async () => {
    for (const source of [Readable.from(['a,b\n1,2\n'], { objectMode: false }), Readable.from(['a,b\n', Buffer.from('1,2\n')])]) {
      const sink = collector();
      await pipeline(source, csv.parse() as unknown as Writable, sink);
      expect(sink.rows).to.deep.equal([['1', '2']]);
    }
  });
});
