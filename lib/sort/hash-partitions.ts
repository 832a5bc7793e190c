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
import { GroupTable, type Group, type GroupTablePool, type Slots } from './group-table.js';

export const PARTITIONS = 16;

/** A stage's `partitionWriters`. */
export const partitionWriters = (): RecordWriter[] => Array.from({ length: PARTITIONS }, () => new RecordWriter(1 << 16, true)); // read back in order

export type { Group } from './group-table.js';

/** What a level needs of the stage: how to read a key, make a group and add a row to it. */
export interface Aggregating<T> {
  keyOf(row: T): unknown[];
  /** For a key of one value (a column or a function): that value (`keyOf(row)[0]`, without the array); else null. */
  readonly keyValue: ((row: T) => unknown) | null;
  newGroup(keys: unknown[]): Group;
  /** Every aggregation's state as a few doubles, when all have one (then groups are held off the heap). */
  readonly slots: Slots<T>[] | null;
  /** The memory its levels' tables hand on. */
  readonly tablePool: GroupTablePool;
  /**
   * The partitions' record buffers (`PARTITIONS` of them), shared by its levels: one level at a
   * time writes partitions, and its last `writeParts` leaves them empty before the next level
   * fills, so what they grew to is held once, not again by each level while the ones before
   * it drain (and counted in the quarter of `memory` they may take).
   */
  readonly partitionWriters: readonly RecordWriter[];
  /** Adds a row to a group; returns how many bytes its growing states took meanwhile. */
  addTo(group: Group, row: T): number;
}

export class HashLevel<T> {
  private readonly groups = new Map<string, Group>();
  /** The groups off the heap, when every aggregation has slots (else the Map holds them). */
  private readonly table: GroupTable<T> | null;
  /** Run files of each partition, in input order. */
  readonly files: string[][] = Array.from({ length: PARTITIONS }, () => []);
  private bytes = 0;
  private frozen = false;
  private buffered = 0;

  constructor(
    private readonly agg: Aggregating<T>,
    private readonly memory: number,
    private readonly folder: SpillFolder,
    readonly level: number,
  ) {
    this.table = agg.slots ? new GroupTable(agg.slots, agg.tablePool) : null;
  }

  /** Adds a row, in memory or to a partition; true when the partitions should be written (`writeParts`). */
  add(row: T): boolean {
    const one = this.agg.keyValue;
    const key = one ? one(row) : this.agg.keyOf(row);
    const id = one ? oneKeyIdentity(key) : levelIdentity(key as unknown[]);
    if (this.table) return this.addToTable(this.table, row, id, key);
    let group = this.groups.get(id);
    if (!group) {
      if (this.frozen) return this.partition(row, hash(id, this.level));
      const keys = one ? [key] : (key as unknown[]);
      group = this.agg.newGroup(keys);
      this.groups.set(id, group);
      this.bytes += 96 + id.length * 2 + estimateBytes(keys) + 32 * group.states.length;
    }
    this.bytes += this.agg.addTo(group, row);
    // Growing states (countDistinct) count too: past the budget, new keys go to partitions.
    if (this.bytes >= this.memory) this.frozen = true;
    return false;
  }

  /** `key`: as `add` read it (the value of a one-value key, else the values). */
  private addToTable(table: GroupTable<T>, row: T, id: string, key: unknown): boolean {
    const h = hash(id, this.level);
    let g = table.find(id, h);
    if (g < 0) {
      // Its allocation is exact: the table takes three quarters, the partitions' buffers the
      // rest; a table that would double past its share stays full instead. A level holds one
      // group at least, so each level takes one key off its partition's rows.
      if (!this.frozen && table.count > 0 && table.bytes + table.growth >= this.memory * 0.75) this.frozen = true;
      if (this.frozen) return this.partition(row, h);
      g = table.insert(id, h, this.agg.keyValue ? [key] : (key as unknown[]));
    }
    table.add(g, row);
    return false;
  }

  /** Buffers a row of a key not held in its partition; true when the partitions should be written. */
  private partition(row: T, h: number): boolean {
    const writer = this.agg.partitionWriters[h % PARTITIONS]!;
    const before = writer.length;
    writer.add(row);
    this.buffered += writer.length - before;
    // Written at an eighth of `memory`: with their doubling buffers, they hold at most a quarter.
    return this.buffered >= this.memory / (this.table ? 8 : 4);
  }

  /** The level's groups, in first-appearance order; each is let go as it is taken. */
  *drain(): Generator<Group> {
    if (this.table) {
      yield* this.table.groups();
      return;
    }
    for (const [id, group] of this.groups) {
      this.groups.delete(id);
      yield group;
    }
  }

  /** Lets the groups go (the stage was destroyed). */
  clear(): void {
    this.groups.clear();
  }

  /** Writes each partition's buffered records as its next run file. */
  async writeParts(): Promise<void> {
    for (let p = 0; p < PARTITIONS; p++) {
      const writer = this.agg.partitionWriters[p]!;
      // Written from the writer's own buffer (no copy), which is then reused.
      if (writer.length > 0) this.files[p]!.push(await this.folder.writeRecords([writer.view()]));
      writer.clear();
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

/**
 * A key's identity in a level's table: a one-column key that is a string is the string itself,
 * so the commonest key (a CSV field) costs no new string per row; any other key is its
 * `keyIdentity` behind a U+0001, as is a string that starts with one, so the two never meet.
 */
export function levelIdentity(keys: readonly unknown[]): string {
  return keys.length === 1 ? oneKeyIdentity(keys[0]) : `\u0001${identity(keys)}`;
}

/** `levelIdentity([value])`. */
export function oneKeyIdentity(value: unknown): string {
  return typeof value === 'string' && value.charCodeAt(0) !== 1 ? value : `\u0001${identity([value])}`;
}

/** FNV-1a of a key's identity string, salted with the level so each level splits differently. */
function hash(s: string, level: number): number {
  let h = (0x811c9dc5 ^ Math.imul(level, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 15; // FNV's low bits mix poorly; the partition is taken from them
  return h >>> 0;
}
