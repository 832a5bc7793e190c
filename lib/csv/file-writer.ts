import { write } from 'node:fs';
import { closeFile, openFile } from './file-descriptor.js';
import { Writable } from 'node:stream';

/**
 * Characters of text the Writable queues at most (while every buffer is full or being
 * written): past them the writer says "full" and the text waits upstream. Queued text lives
 * until a buffer frees — through young collections, which promote it: with a buffer's worth
 * (1 M characters) allowed, a sort's output promoted ~1 MB each write (126 MB over the 1 M-row
 * sort's merge, against 1.5 MB for reading and writing the file alone).
 */
const QUEUED_TEXT = 1 << 14;
const BUFFERS = 3;
const EMPTY: Buffer = Buffer.alloc(0);

/**
 * A file as a Writable of text that encodes into three buffers it reuses: one is filled while
 * the others are written, in order, on libuv's thread pool (one written, one full and
 * waiting: text is turned into bytes at once rather than queued as strings while the disk is
 * busy). fs.WriteStream makes a new Buffer of every string it is given; those die only after
 * their write, often old, and pile up until a full garbage collection (on a 2 GB output:
 * +10 MB of RSS that a 200 MB output never reaches). Here the memory is the three buffers,
 * whatever the output's size, each made when first needed (a sort's output holds none while
 * it takes its input in). The descriptor is closed only once no write is in flight,
 * before 'close'.
 */
export class FileWriter extends Writable {
  private fd: number | null = null;
  /** The buffer being filled, up to `used` (made at the first text), and those neither filled nor written. */
  private current: Buffer = EMPTY;
  private used = 0;
  private readonly free: Buffer[] = [];
  /** Buffers made so far (at most `BUFFERS`: each is made when first needed). */
  private made = 0;
  /** The writes started and not done, oldest first. */
  private readonly writes: Promise<void>[] = [];
  /** The last write started (each starts once the one before it is done). */
  private inFlight: Promise<void> | null = null;

  constructor(private readonly path: string | URL, private readonly size: number) {
    super({ decodeStrings: false, highWaterMark: QUEUED_TEXT });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    openFile(this.path, 'w', (fd) => {
      this.fd = fd;
    }, callback);
  }

  override _write(text: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.current === EMPTY) void this.take(); // the first buffer, made at the first text
    // A UTF-16 unit is at most 3 bytes of UTF-8: text that may not fit goes after a flush.
    if (this.used + text.length * 3 <= this.current.length) {
      this.used += typeof text === 'string' ? this.current.write(text, this.used) : text.copy(this.current, this.used);
      callback();
      return;
    }
    this.flush().then(() => {
      if (text.length * 3 <= this.size) {
        this._write(text, 'utf8', callback);
        return;
      }
      // Larger than a buffer: written on its own, after the writes before it.
      this.start(typeof text === 'string' ? Buffer.from(text) : text, () => {});
      this.inFlight!.then(() => callback(), callback);
    }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.startFilled();
    Promise.resolve(this.inFlight).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = null;
    closeFile(fd, this.inFlight, error, callback);
  }

  /** Starts writing the filled buffer, then fills a free one (waiting for the oldest write when none is); rejects with a failed write's error. */
  private async flush(): Promise<void> {
    if (this.startFilled()) await this.take();
  }

  /** Takes a buffer to fill: a free one, a new one while fewer than `BUFFERS` exist, else the oldest write's once it is done. */
  private take(): Promise<void> | void {
    if (this.free.length > 0) this.current = this.free.pop()!;
    else if (this.made < BUFFERS) {
      this.current = Buffer.allocUnsafe(this.size);
      this.made++;
    } else return this.writes[0]!.then(() => this.take());
  }

  /** Starts writing the buffer being filled, if it holds anything (the caller then fills another). */
  private startFilled(): boolean {
    if (this.used === 0) return false;
    const filled = this.current;
    this.start(filled.subarray(0, this.used), () => this.free.push(filled));
    this.used = 0;
    return true;
  }

  /** Writes `bytes` after the writes started before; `done` once they are written. A failure is reported by whoever awaits the writes (the next flush, the end). */
  private start(bytes: Buffer, done: () => void): void {
    const written = (this.inFlight ?? Promise.resolve()).then(() => this.writeAll(bytes));
    this.inFlight = written;
    this.writes.push(written);
    written.then(() => {
      this.writes.shift();
      done();
    }, () => {});
  }

  private writeAll(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      const next = (from: number) => {
        write(this.fd!, bytes, from, bytes.length - from, null, (error, written) => {
          if (error) reject(error);
          else if (from + written < bytes.length) next(from + written);
          else resolve();
        });
      };
      next(0);
    });
  }
}
