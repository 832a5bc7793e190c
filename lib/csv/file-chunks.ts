import { fstat, open, read } from 'node:fs';
import { closeFile } from './file-descriptor.js';
import { Readable } from 'node:stream';

interface Chunk {
  error: Error | null;
  bytes: Buffer | null;
}

/**
 * A file's bytes as a Readable that keeps one read ahead: while the parser works on one
 * chunk, the next is already being read on libuv's thread pool (fs.ReadStream starts the
 * next read only after the chunk it pushed has been processed, so reading and parsing take
 * turns). Holds at most one chunk beyond the stream's buffer. The file is opened on the
 * first read, not at creation: a stream that never runs holds no descriptor. The
 * descriptor is closed only once no open or read is in flight, before 'close'. Errors
 * name the stage and the path (`csv.read(data/x.csv): no such file`), the system error
 * as their `cause` and its `code` kept.
 */
export class FileChunks extends Readable {
  private fd: number | null = null;
  private next: Promise<Chunk> | null = null;
  /** The file's size in bytes, known once it is open (for run()'s progress). */
  size: number | undefined;

  constructor(private readonly path: string | URL, private readonly chunkSize: number, private readonly stage = 'csv.read') {
    super({ highWaterMark: chunkSize });
  }

  override _read(): void {
    // First read: open, then read ahead (an open that fails settles as that chunk's error).
    this.next ??= new Promise<Chunk>((resolve) => {
      open(this.path, 'r', (error, fd) => {
        if (error) {
          resolve({ error, bytes: null });
          return;
        }
        this.fd = fd;
        // The size is known before the first chunk arrives (a failed fstat leaves it unknown).
        fstat(fd, (statError, stats) => {
          if (!statError) this.size = stats.size;
          this.readAhead();
          resolve(this.next!);
        });
      });
    });
    const pending = this.next;
    pending.then(({ error, bytes }) => {
      if (this.destroyed) return;
      if (error) {
        this.destroy(fileError(this.stage, this.path, error));
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
    // An open still in flight sets `fd` (and starts one read) before `next` settles.
    void (this.next ?? Promise.resolve()).then(() => {
      const fd = this.fd;
      this.fd = null;
      closeFile(fd, this.next, error, callback);
    });
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

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
};

/** `csv.read(data/x.csv): no such file`, keeping the system error's `code` and the error as `cause`. */
export function fileError(stage: string, path: string | URL, error: NodeJS.ErrnoException): Error {
  const reason = (error.code && REASONS[error.code]) ?? error.message;
  return Object.assign(new Error(`${stage}(${String(path)}): ${reason}`, { cause: error }), { code: error.code, path: String(path) });
}
