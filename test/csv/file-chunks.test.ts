import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { FileChunks } from '../../lib/csv/file-chunks.js';
import { openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';

const MiB = 1 << 20;

/** Every chunk of `stream`, in order. */
async function chunksOf(stream: FileChunks): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks;
}

/** The file position of the descriptor open on `file` (from Linux's /proc). */
function positionOf(file: string): number {
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    if (target === file) return Number(/pos:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]);
  }
  throw new Error(`${file} is not open`);
}

describe("FileChunks (csv.read's file reader)", () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it('hands on a file of several reads byte for byte, in chunks of chunkSize', async () => {
    const content = randomBytes(2.5 * MiB + 17);
    const file = await dir.write('several.bin', content);
    const chunks = await chunksOf(new FileChunks(file, 65_536));
    expect(chunks.slice(0, -1).every((chunk) => chunk.length === 65_536)).to.equal(true);
    expect(chunks.at(-1)!.length).to.equal(content.length % 65_536);
    expect(Buffer.concat(chunks).equals(content)).to.equal(true);
  });

  it('reads a chunkSize above its read size in one read a chunk', async () => {
    const content = randomBytes(7 * MiB);
    const file = await dir.write('large-chunks.bin', content);
    const chunks = await chunksOf(new FileChunks(file, 3 * MiB));
    expect(chunks.map((chunk) => chunk.length)).to.deep.equal([3 * MiB, 3 * MiB, MiB]);
    expect(Buffer.concat(chunks).equals(content)).to.equal(true);
  });

  it('lends views of its read buffers: a chunk never released keeps its bytes', async () => {
    const content = randomBytes(5 * MiB);
    const file = await dir.write('kept.bin', content);
    const [first, ...rest] = await chunksOf(new FileChunks(file, 4096));
    expect(rest.length).to.equal(5 * 256 - 1);
    expect(first!.equals(content.subarray(0, 4096))).to.equal(true);
  });

  it('reads into a buffer again once every chunk of it is released, and only then', async () => {
    const content = randomBytes(8 * MiB + 5);
    const file = await dir.write('released.bin', content);
    const stream = new FileChunks(file, 65_536);
    const buffers = new Set<ArrayBufferLike>();
    let at = 0;
    let held: Buffer | null = null;
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      expect(bytes.equals(content.subarray(at, at + bytes.length)), `bytes at ${at}`).to.equal(true);
      at += bytes.length;
      buffers.add(bytes.buffer);
      // The first chunk is held back until the end: its buffer must not be read into meanwhile.
      if (held === null) held = bytes;
      else stream.release(bytes);
    }
    expect(at).to.equal(content.length);
    expect(held!.equals(content.subarray(0, 65_536))).to.equal(true);
    // The held buffer, the one being handed on, the read ahead, and one released late at most.
    expect(buffers.size).to.be.within(3, 4);
  });

  it('reads no further than one read ahead of the chunk handed on when its consumer stops', async () => {
    const file = await dir.write('paused.bin', randomBytes(16 * MiB));
    const stream = new FileChunks(file, 65_536);
    let taken = 0;
    stream.on('data', () => {
      if (++taken === 20) stream.pause();
    });
    while (taken < 20) await once(stream, 'data');
    // Time for a reader that runs ahead to do so (a correct one has stopped already).
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 20 chunks are 1.25 MiB: in the second read; the third (to 3 MiB) may be in flight.
    expect(taken).to.equal(20);
    expect(positionOf(file)).to.be.at.most(3 * MiB);
    expect(stream.readableLength).to.be.at.most(65_536);
    stream.destroy();
    await once(stream, 'close');
  });

  it('destroyed in the middle of a file, closes its descriptor before close', async () => {
    const file = await dir.write('destroyed.bin', randomBytes(4 * MiB));
    const stream = new FileChunks(file, 65_536);
    let taken = 0;
    stream.on('data', () => {
      if (++taken === 3) stream.destroy();
    });
    await once(stream, 'close');
    expect(taken).to.equal(3);
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('ends an empty file with no chunk, and a file smaller than a chunk with one', async () => {
    expect(await chunksOf(new FileChunks(await dir.write('empty.bin', ''), 65_536))).to.deep.equal([]);
    const small = await chunksOf(new FileChunks(await dir.write('small.bin', 'a,b\n1,2\n'), 65_536));
    expect(small.map(String)).to.deep.equal(['a,b\n1,2\n']);
  });
});
