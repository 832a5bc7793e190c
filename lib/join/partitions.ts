/**
 * Hash partitions on disk for the grace hash join: a row is encoded at once into its
 * partition's buffer (by the hash of its key's identity, seeded per level so a partition
 * splits again differently), so buffered rows are bytes, counted exactly, and no row object
 * outlives its `add`. A buffer that reaches its share of the budget is appended to its
 * partition's one file (kept open while the side is partitioned: large sequential writes,
 * no file per flush); a partition is read back in the order written.
 */
import type { SpillFolder } from '../spill/index.js';
import { RecordWriter } from '../spill/index.js';
import { hashOf } from './keys.js';

export const FANOUT = 16;

/**
 * One partition's file, written a chunk at a time while it stays open: `SpillFolder.writeRecords`
 * pulls the chunks handed to `append`, and asks for the next only once the last is written.
 */
class PartitionFile {
  readonly path: Promise<string>;
  private chunk: Buffer | null = null;
  private written: (() => void) | null = null;
  private wake: (() => void) | null = null;
  private ended = false;

  constructor(folder: SpillFolder) {
    this.path = folder.writeRecords(this.chunks());
    this.path.catch(() => undefined); // seen through append() and finish()
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.chunk) {
        const chunk = this.chunk;
        this.chunk = null;
        yield chunk;
        // Pulled again: the chunk is written.
        const written = this.written!;
        this.written = null;
        written();
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    }
  }

  /** Resolves once `chunk` is written (it may be reused after); rejects if the file fails. */
  append(chunk: Buffer): Promise<void> {
    const written = new Promise<void>((resolve) => {
      this.chunk = chunk;
      this.written = resolve;
    });
    this.wake?.();
    return Promise.race([written, this.path.then(() => undefined)]);
  }

  /** Closes the file; its path. */
  finish(): Promise<string> {
    this.ended = true;
    this.wake?.();
    return this.path;
  }
}

/**
 * Invariant: the buffers hold at most `budget` bytes — a partition's buffer is appended to its
 * file once it reaches a 2·FANOUTth of the budget, so that each grows (by doubling) to at
 * most a FANOUTth of it.
 */
export class Partitions {
  private writers: RecordWriter[] | null = Array.from({ length: FANOUT }, () => new RecordWriter(1 << 16, true));
  private readonly open: (PartitionFile | null)[] = new Array<PartitionFile | null>(FANOUT).fill(null);
  private readonly chunkBytes: number;
  /** The partition whose buffer is due to be written (`flush()`), or -1. */
  private due = -1;
  /** Each partition's file (none: no rows), once `finish()` has resolved. */
  readonly files: string[][] = Array.from({ length: FANOUT }, () => []);

  constructor(private readonly folder: SpillFolder, private readonly seed: number, budget: number) {
    this.chunkBytes = Math.max(1, budget / (2 * FANOUT));
  }

  /** Encodes a row into its partition's buffer; true when that buffer is due to be written (`flush()`). */
  add(row: unknown, id: string): boolean {
    const p = hashOf(id, this.seed) % FANOUT;
    const writer = this.writers![p]!;
    writer.add(row);
    if (writer.length < this.chunkBytes) return false;
    this.due = p;
    return true;
  }

  /** Appends the buffer that is due to its partition's file. */
  async flush(): Promise<void> {
    const p = this.due;
    this.due = -1;
    if (p >= 0) await this.write(p);
  }

  private async write(p: number): Promise<void> {
    const writer = this.writers![p]!;
    if (writer.length === 0) return;
    this.open[p] ??= new PartitionFile(this.folder);
    await this.open[p]!.append(writer.view());
    writer.clear();
  }

  /** Writes what is buffered and closes the files (then `files` is complete); the buffers are let go. */
  async finish(): Promise<void> {
    for (let p = 0; p < FANOUT; p++) await this.write(p);
    this.writers = null;
    const paths = await Promise.all(this.open.map((file) => file?.finish()));
    paths.forEach((path, p) => path !== undefined && this.files[p]!.push(path));
  }

  /** Ends the files without waiting (on the way out: the folder's removal then finds no writer waiting for more). */
  abandon(): void {
    for (const file of this.open) void file?.finish().catch(() => undefined);
  }

  /** The rows of `files` in order, a decoded chunk at a time (no promise a row). */
  static async *batches(folder: SpillFolder, files: readonly string[]): AsyncGenerator<unknown[]> {
    for (const file of files) {
      const reader = await folder.read(file);
      try {
        for (let row = await reader.next(); row !== undefined; row = await reader.next()) {
          const batch: unknown[] = [row];
          for (let more = reader.nextBuffered(); more; more = reader.nextBuffered()) batch.push(more.row);
          yield batch;
        }
      } finally {
        await reader.close().catch(() => undefined);
      }
    }
  }
}
