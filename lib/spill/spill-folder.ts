/**
 * Run files on disk: a folder private to one stage (made with `mkdtemp` under `tmpDir`,
 * mode 0700, files 0600, so no other run — and no crashed run's leftovers — shares it),
 * written a run at a time and read back in chunks. `remove()` deletes the folder and
 * everything in it; the stage calls it on success, error, abort and early stop, and a
 * SIGINT/SIGTERM of the process removes every folder still there.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK, BlockFramer } from './blocks.js';
import { BLOCK_HEAD, HEADER_BYTES, RecordReader, RecordWriter, checkHeader, header } from './spill-format.js';

/** The file operations the folder writes with; tests replace `write` to simulate a full disk. */
export const spillIo = {
  write: (handle: FileHandle, bytes: Buffer): Promise<unknown> => handle.write(bytes, 0, bytes.length),
};

/** Writing a run failed (e.g. `ENOSPC`): names the folder and the bytes written so far; `code` is the system's. */
export class SpillError extends Error {
  override name = 'SpillError';
  readonly code?: string;
  constructor(readonly stage: string, readonly tmpDir: string, readonly bytesWritten: number, cause: unknown) {
    const c = cause as NodeJS.ErrnoException;
    super(`${stage} could not spill to ${tmpDir} after ${bytesWritten} bytes: ${c?.message ?? String(cause)}`, { cause });
    if (c?.code) this.code = c.code;
  }
}

const CHUNK = 1 << 16;

/**
 * The folders that exist now. While there is one, SIGINT and SIGTERM remove them all (sync,
 * the process is about to end) and, when nobody else listens for that signal, raise it again
 * so the process ends as it would have; with no folder left, the listeners are removed.
 */
const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(signal: NodeJS.Signals): void {
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function track(path: string): void {
  if (live.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  live.add(path);
}

function untrack(path: string): void {
  if (!live.delete(path) || live.size > 0) return;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

export class SpillFolder {
  private path: string | null = null;
  private creating: Promise<string> | null = null;
  private runs = 0;
  private readonly open = new Set<FileHandle>();
  /** Bytes written to run files so far. */
  bytesWritten = 0;
  removed = false;
  /** The run being written, settled: `remove()` waits for it so no file appears after. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(readonly stage: string, readonly tmpDir: string) {}

  /** The folder, made on first use. */
  private folder(): Promise<string> {
    // Named for the stage (`sluice-sort-…`, `sluice-groupBy-…`, `sluice-hashJoin-…`), so a
    // leftover of a killed process says whose it was; the random suffix keeps it private.
    this.creating ??= mkdtemp(join(this.tmpDir, `sluice-${this.stage.replace(/[^A-Za-z]/g, '')}-`)).then((p) => {
      track(p);
      return (this.path = p);
    });
    return this.creating;
  }

  /** Writes rows (in order) as one run file; returns its path. */
  writeRun(rows: unknown[] | AsyncIterable<unknown[]>): Promise<string> {
    return this.writeRecords(this.encoded(rows));
  }

  /**
   * Writes records already encoded (by a `RecordWriter`, in order, whole records per chunk)
   * as one run file, framed in checksummed blocks (a chunk may be reused once the next is
   * asked for); returns its path. Saves encoding rows twice when a stage holds them encoded.
   */
  writeRecords(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<string> {
    const writing = this.writeFile(chunks);
    this.busy = writing.catch(() => undefined);
    return writing;
  }

  /** Rows encoded as records, a chunk at a time. */
  private async *encoded(rows: unknown[] | AsyncIterable<unknown[]>): AsyncGenerator<Buffer> {
    const w = new RecordWriter();
    for await (const batch of Array.isArray(rows) ? [rows] : rows) {
      for (const row of batch) {
        w.add(row);
        if (w.length >= CHUNK) yield w.take();
      }
    }
    if (w.length > 0) yield w.take();
  }

  private async writeFile(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<string> {
    let file: string | undefined;
    let handle: FileHandle | undefined;
    try {
      const dir = await this.folder();
      if (this.removed) throw new Error('the spill folder was removed');
      file = join(dir, `run-${++this.runs}`);
      handle = await open(file, 'wx', 0o600);
      this.open.add(handle);
      await this.write(handle, header());
      const blocks = new BlockFramer();
      for await (const chunk of chunks) for (const framed of blocks.frame(chunk)) await this.write(handle, framed);
      for (const framed of blocks.end()) await this.write(handle, framed);
      return file;
    } catch (error) {
      if (error instanceof SpillError) throw error;
      throw new SpillError(this.stage, this.tmpDir, this.bytesWritten, error);
    } finally {
      if (handle) {
        this.open.delete(handle);
        await handle.close().catch(() => undefined);
      }
    }
  }

  private async write(handle: FileHandle, bytes: Buffer): Promise<void> {
    await spillIo.write(handle, bytes);
    this.bytesWritten += bytes.length;
  }

  /** Opens a run file for reading, `chunk` bytes at a time (a reader holds about twice that). */
  async read(file: string, chunk = CHUNK): Promise<RunReader> {
    const handle = await open(file, 'r');
    this.open.add(handle);
    return new RunReader(file, handle, () => this.open.delete(handle), chunk);
  }

  /** Closes what is open and deletes the folder (once; safe to call again). */
  async remove(): Promise<void> {
    this.removed = true;
    await Promise.allSettled([...this.open].map((h) => h.close()));
    this.open.clear();
    await this.busy;
    const path = this.path ?? (this.creating ? await this.creating.catch(() => null) : null);
    if (path) {
      await rm(path, { recursive: true, force: true });
      untrack(path);
    }
  }

  /** The folder's path once made (for tests and the cleanup hint). */
  get location(): string | null {
    return this.path;
  }
}

/**
 * Reads one run file's rows in order, a chunk at a time, decoding one row at a time. One read
 * is in flight while the loaded chunk is decoded (read-ahead: the merge does not wait on the
 * disk for each chunk of each run), so a reader holds two buffers of about `chunk` bytes.
 */
export class RunReader {
  /** The loaded bytes (decoded now), and the buffer the next chunk is read into. */
  private buf: Buffer;
  private spare: Buffer;
  /** The read into `spare` in flight (its bytes go after the `rest` carried over), if any. */
  private pending: Promise<{ bytesRead: number }> | null = null;
  private rest = 0;
  private started = false;
  private done = false;
  private readonly records: RecordReader;

  constructor(readonly file: string, private readonly handle: FileHandle, private readonly onClose: () => void, private readonly chunk: number) {
    this.records = new RecordReader(file);
    // Room for a chunk after the partial block carried over from the one before (a block is
    // about BLOCK bytes): buffers of only `chunk` bytes were outgrown at nearly every read, a
    // new buffer each time (in a 1 M-row sort's merge, ~220 MB of them, which then wait for
    // a major collection).
    this.buf = Buffer.allocUnsafe(chunk + BLOCK + BLOCK_HEAD);
    this.spare = Buffer.allocUnsafe(chunk + BLOCK + BLOCK_HEAD);
  }

  /** The next row, or `undefined` at the end (rows themselves are never undefined). */
  async next(): Promise<unknown> {
    for (;;) {
      const row = this.records.next();
      if (row !== undefined) return row;
      if (this.done) return undefined;
      await this.fill();
    }
  }

  /** The next row if its block is already read (`undefined` otherwise: then call `next()`). */
  nextBuffered(): { row: unknown } | undefined {
    const row = this.records.next();
    return row === undefined ? undefined : { row };
  }

  /**
   * Loads the chunk read ahead (after the bytes left over from the last one: the start of a
   * block that continues) and starts reading the next. The two buffers are reused for the
   * whole file: rows are decoded out of them (copies), so nothing refers to them after.
   * Called once every row of the loaded blocks is read.
   */
  private async fill(): Promise<void> {
    const { bytesRead } = await (this.pending ?? this.readAhead(0, this.buf));
    this.pending = null;
    [this.buf, this.spare] = [this.spare, this.buf];
    let bytes = this.buf.subarray(0, this.rest + bytesRead);
    if (!this.started) {
      if (bytes.length < HEADER_BYTES && bytesRead > 0) {
        this.records.load(bytes.subarray(0, 0));
        this.readAhead(bytes.length, bytes);
        return;
      }
      checkHeader(bytes, this.file);
      this.started = true;
      bytes = bytes.subarray(HEADER_BYTES);
    }
    this.records.load(bytes);
    if (bytesRead === 0) {
      this.records.finish(bytes.length - this.records.used);
      this.done = true;
      await this.close();
      return;
    }
    this.readAhead(bytes.length - this.records.used, bytes);
  }

  /** Starts reading the next chunk into `spare`, after the last `rest` bytes of `bytes` (copied first). */
  private readAhead(rest: number, bytes: Buffer): Promise<{ bytesRead: number }> {
    if (this.spare.length < rest + this.chunk) this.spare = Buffer.allocUnsafe(rest + this.chunk);
    bytes.copy(this.spare, 0, bytes.length - rest);
    this.rest = rest;
    const reading = this.handle.read(this.spare, rest, this.chunk, null);
    reading.catch(() => undefined); // awaited by the next fill; a reader closed before that never asks
    return (this.pending = reading);
  }

  async close(): Promise<void> {
    this.onClose();
    await this.handle.close();
  }
}
