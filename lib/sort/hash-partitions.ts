/**
 * Hash aggregation in a byte budget, one level at a time (the logic apart from the stream).
 * A level holds groups in a Map until their estimate reaches `memory`; from then on, a row
 * whose key is not in memory is encoded (off the V8 heap) into one of 16 partitions chosen by
 * a hash of its key salted with the level, and the partitions are written to the spill folder
 * whenever they pass a quarter of `memory`. A partition is later aggregated as a level of its
 * own (the next salt splits it differently), so a partition that does not fit is partitioned
 * again — any number of keys works in the budget, as DuckDB's radix-partitioned aggregation.
 * Invariants: a key is aggregated wholly in one level's memory (rows in input order), so
 * `first`/`last` hold; held: the groups' estimate (with what their growing states took) plus
 * a quarter of `memory` of records. Not bounded: the growing states of groups already held
 * keep growing (countDistinct of a few groups with huge sets of values).
 */
import { RecordWriter, estimateBytes, type RunReader, type SpillFolder } from '../spill/index.js';
import { keyIdentity as identity } from '../spill/index.js';

export const PARTITIONS = 16;

/** A group: its key values and one state per aggregation. */
export interface Group {
  keys: unknown[];
  states: unknown[];
  /** Bytes its growing states held at the last row (see `Reducer.bytes`). */
  grown: number;
}

/** What a level needs of the stage: how to read a key, make a group and add a row to it. */
export interface Aggregating<T> {
  keyOf(row: T): unknown[];
  newGroup(keys: unknown[]): Group;
  /** Adds a row to a group; returns how many bytes its growing states took meanwhile. */
  addTo(group: Group, row: T): number;
}

export class HashLevel<T> {
  readonly groups = new Map<string, Group>();
  /** Run files of each partition, in input order. */
  readonly files: string[][] = Array.from({ length: PARTITIONS }, () => []);
  private bytes = 0;
  private frozen = false;
  private readonly writers = Array.from({ length: PARTITIONS }, () => new RecordWriter());
  private buffered = 0;

  constructor(
    private readonly agg: Aggregating<T>,
    private readonly memory: number,
    private readonly folder: SpillFolder,
    readonly level: number,
  ) {}

  /** Adds a row, in memory or to a partition; true when the partitions should be written (`writeParts`). */
  add(row: T): boolean {
    const keys = this.agg.keyOf(row);
    const id = identity(keys);
    let group = this.groups.get(id);
    if (!group) {
      if (this.frozen) {
        const writer = this.writers[hash(id, this.level) % PARTITIONS]!;
        const before = writer.length;
        writer.add(row);
        this.buffered += writer.length - before;
        return this.buffered >= this.memory / 4;
      }
      group = this.agg.newGroup(keys);
      this.groups.set(id, group);
      this.bytes += 96 + id.length * 2 + estimateBytes(keys) + 32 * group.states.length;
    }
    this.bytes += this.agg.addTo(group, row);
    // Growing states (countDistinct) count too: past the budget, new keys go to partitions.
    if (this.bytes >= this.memory) this.frozen = true;
    return false;
  }

  /** Writes each partition's buffered records as its next run file. */
  async writeParts(): Promise<void> {
    for (let p = 0; p < PARTITIONS; p++) {
      const writer = this.writers[p]!;
      if (writer.length > 0) this.files[p]!.push(await this.folder.writeRecords([writer.take()]));
    }
    this.buffered = 0;
  }

  /** Whether any row went to a partition. */
  get partitioned(): boolean {
    return this.frozen && (this.buffered > 0 || this.files.some((f) => f.length > 0));
  }

  /** Partition files written so far. */
  get filesWritten(): number {
    return this.files.reduce((n, f) => n + f.length, 0);
  }
}

/** Adds a partition's rows (its run files, in order) to a new level below `level`; returns that level with its partitions written. */
export async function aggregatePartition<T>(files: string[], agg: Aggregating<T>, memory: number, folder: SpillFolder, level: number): Promise<HashLevel<T>> {
  const next = new HashLevel(agg, memory, folder, level + 1);
  for (const file of files) {
    const reader: RunReader = await folder.read(file);
    for (let row = await reader.next(); row !== undefined; row = reader.nextBuffered()?.row ?? (await reader.next())) {
      if (next.add(row as T)) await next.writeParts();
    }
  }
  if (next.partitioned) await next.writeParts();
  return next;
}

/** FNV-1a of a key's identity string, salted with the level so each level splits differently. */
function hash(s: string, level: number): number {
  let h = (0x811c9dc5 ^ Math.imul(level, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15; // FNV's low bits mix poorly; the partition is taken from them
  return h >>> 0;
}
