import { fstat, open, read } from 'node:fs';
import { closeFile } from './file-descriptor.js';
import { Readable } from 'node:stream';

interface Filled {
  error: Error | null;
  buffer: Buffer | null;
  /** Bytes read into `buffer`; 0 at the end of the file. */
  length: number;
}

/**
 * A file's bytes as a Readable of `chunkSize`-byte chunks, read `READ_SIZE` bytes at a time
 * with one read ahead: while the parser works on the chunks of one read, the next is already
 * being read on libuv's thread pool (fs.ReadStream starts the next read only after the chunk
 * it pushed has been processed, so reading and parsing take turns). Fewer, larger reads mean
 * fewer hand-offs to the pool (each wakes a pool thread, which on a busy machine takes the
 * main thread's core), while the chunks stay the size the parser's batches are bounded by.
 * Each chunk is a view of its read buffer, lent until the consumer releases it (`release`;
 * csv.read's parser does once it has copied or decoded the chunk): a buffer is read into
 * again only when all its chunks are back. Each chunk is handed on in an event-loop turn of
 * its own, as a chunk read alone would be: writes complete between batches, and so do the
 * young-generation collections V8 schedules as tasks, which then find no row alive (handing
 * a read's chunks on at once made them run mid-batch instead: 5× the collection time on
 * days-until-expiration). Holds, beyond the stream's buffer, the read buffer being handed
 * on, the one read into, and those with chunks not yet released (at most `READ_SIZE` each,
 * a smaller file's size).
 * The file is opened on the first read, not at creation: a stream that never runs
 * holds no descriptor. The descriptor is closed only once no open or read is in flight,
 * before 'close'. Errors name the stage and the path (`csv.read(data/x.csv): no such file`),
 * the system error as their `cause` and its `code` kept.
 */
export class FileChunks extends Readable {
  private fd: number | null = null;
  private next: Promise<Filled> | null = null;
  /** The last read's bytes not yet handed on: `filled[at, end)`. */
  private filled: Buffer | null = null;
  /** Per read buffer: its chunks handed on and not yet released (see `release`). */
  private readonly lent = new Map<ArrayBufferLike, { buffer: Buffer; chunks: number }>();
  /** Read buffers all of whose chunks came back, to read into again. */
  private readonly free: Buffer[] = [];
  private at = 0;
  private end = 0;
  private readSize: number;
  /** The file's size in bytes, known once it is open (for run()'s progress). */
  size: number | undefined;

  constructor(private readonly path: string | URL, private readonly chunkSize: number, private readonly stage = 'csv.read') {
    super({ highWaterMark: chunkSize });
    this.readSize = Math.max(chunkSize, READ_SIZE);
  }

  override _read(): void {
    if (this.at < this.end) {
      // Each chunk in a turn of its own (see the class comment).
      setImmediate(() => this.destroyed || this.push(this.piece()));
      return;
    }
    // First read: open, then read ahead (an open that fails settles as that read's error).
    this.next ??= new Promise<Filled>((resolve) => {
      open(this.path, 'r', (error, fd) => {
        if (error) {
          resolve({ error, buffer: null, length: 0 });
          return;
        }
        this.fd = fd;
        // The size is known before the first chunk arrives (a failed fstat leaves it unknown).
        fstat(fd, (statError, stats) => {
          if (!statError) {
            this.size = stats.size;
            this.readSize = Math.min(this.readSize, Math.max(stats.size, this.chunkSize));
          }
          this.readAhead(this.readBuffer());
          resolve(this.next!);
        });
      });
    });
    this.next.then(({ error, buffer, length }) => {
      if (this.destroyed) return;
      if (error) {
        this.destroy(fileError(this.stage, this.path, error));
        return;
      }
      if (length === 0) {
        this.push(null);
        return;
      }
      const done = this.filled;
      this.filled = buffer;
      if (done !== null && !this.lent.has(done.buffer)) this.free.push(done);
      this.readAhead(this.readBuffer());
      this.at = 0;
      this.end = length;
      this.push(this.piece());
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

  /**
   * Says that `chunk` (one this stream handed on) is no longer read: once every chunk of its
   * read buffer is, the buffer is read into again. The parser calls it when it has copied or
   * decoded a chunk; a chunk never released keeps its bytes (its buffer is not reused).
   */
  release(chunk: Buffer): void {
    const entry = this.lent.get(chunk.buffer);
    if (entry === undefined || --entry.chunks > 0) return;
    this.lent.delete(chunk.buffer);
    if (entry.buffer !== this.filled) this.free.push(entry.buffer);
  }

  /** The next chunk of the last read: a view of the read buffer, lent until released. */
  private piece(): Buffer {
    const filled = this.filled!;
    const length = Math.min(this.chunkSize, this.end - this.at);
    const chunk = filled.subarray(this.at, this.at + length);
    this.at += length;
    const entry = this.lent.get(filled.buffer);
    if (entry) entry.chunks++;
    else this.lent.set(filled.buffer, { buffer: filled, chunks: 1 });
    return chunk;
  }

  /** A free read buffer, or a new one (never from Node's shared pool: its memory is its own). */
  private readBuffer(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.readSize);
  }

  private readAhead(buffer: Buffer): void {
    const fd = this.fd!;
    this.next = new Promise((resolve) => {
      read(fd, buffer, 0, buffer.length, null, (error, length) => resolve({ error, buffer, length: error ? 0 : length }));
    });
  }
}

/** Bytes per file read at most (at least the chunk size; a smaller file's size). */
const READ_SIZE = 1 << 20;

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
