/**
 * Hash partitions on disk for the grace hash join: rows are buffered per partition (by the
 * hash of their key's identity, seeded per level so a partition splits again differently)
 * and written as runs of the stage's spill folder whenever the buffers reach their budget;
 * a partition is read back as its runs in order, so rows keep their order within it.
 */
import type { SpillFolder } from '../spill/index.js';
import { estimateBytes } from '../spill/index.js';
import { hashOf } from './keys.js';

export const FANOUT = 16;

/**
 * Heap bytes of a row held by a join, from `estimateBytes` (which counts contents): measured
 * on CSV rows (bench/join.ts: 4-column payment rows in the table took 2.4× their estimate
 * of the V8 heap, after a forced GC), held rows cost about 2.5× the estimate.
 */
export const heldBytes = (row: unknown): number => estimateBytes(row) * 2.5;

export class Partitions {
  private buffers: unknown[][] = Array.from({ length: FANOUT }, () => []);
  private bytes = 0;
  /** Run files of each partition, in the order written. */
  readonly files: string[][] = Array.from({ length: FANOUT }, () => []);

  constructor(private readonly folder: SpillFolder, private readonly seed: number, private readonly budget: number) {}

  /** Buffers a row; true when the buffers should be written out (`flush()`). */
  add(row: unknown, id: string): boolean {
    this.buffers[hashOf(id, this.seed) % FANOUT]!.push(row);
    this.bytes += heldBytes(row);
    return this.bytes >= this.budget;
  }

  /** Writes every non-empty buffer as a run of its partition. */
  async flush(): Promise<void> {
    for (let p = 0; p < FANOUT; p++) {
      const rows = this.buffers[p]!;
      if (rows.length === 0) continue;
      this.buffers[p] = [];
      this.files[p]!.push(await this.folder.writeRun(rows));
    }
    this.bytes = 0;
  }

  /** The rows of `files` in order, one at a time. */
  static async *rows(folder: SpillFolder, files: readonly string[]): AsyncGenerator<unknown> {
    for (const file of files) {
      const reader = await folder.read(file);
      try {
        for (let row = await reader.next(); row !== undefined; row = await reader.next()) yield row;
      } finally {
        await reader.close().catch(() => undefined);
      }
    }
  }
}
