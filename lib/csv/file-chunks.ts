import { read } from 'node:fs';
import { closeFile, openFile } from './file-descriptor.js';
import { Readable } from 'node:stream';

interface Chunk {
  error: Error | null;
  bytes: Buffer | null;
}

/**
 * A file's bytes as a Readable that keeps one read ahead: while the parser works on one
 * chunk, the next is already being read on libuv's thread pool (fs.ReadStream starts the
 * next read only after the chunk it pushed has been processed, so reading and parsing take
 * turns). Holds at most one chunk beyond the stream's buffer. The descriptor is closed only
 * once no read is in flight, before 'close'.
 */
export class FileChunks extends Readable {
  private fd: number | null = null;
  private next: Promise<Chunk> | null = null;

  constructor(private readonly path: string | URL, private readonly chunkSize: number) {
    super({ highWaterMark: chunkSize });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openFile(this.path, 'r', (fd) => {
      this.fd = fd;
      this.readAhead();
    }, callback);
  }

  override _read(): void {
    const pending = this.next!;
    pending.then(({ error, bytes }) => {
      if (this.destroyed) return;
      if (error) {
        this.destroy(error);
        return;
      }
      if (bytes === null) {
        this.push(null);
        return;
      }
      this.readAhead();
      this.push(bytes);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    closeFile(fd, this.next, error, callback);
  }


  private readAhead(): void {
    const fd = this.fd!;
    const buffer = Buffer.allocUnsafe(this.chunkSize);
    this.next = new Promise((resolve) => {
      read(fd, buffer, 0, this.chunkSize, null, (error, bytesRead) => {
        if (error) resolve({ error, bytes: null });
        else resolve({ error: null, bytes: bytesRead === 0 ? null : bytesRead < buffer.length ? buffer.subarray(0, bytesRead) : buffer });
      });
    });
  }
}
