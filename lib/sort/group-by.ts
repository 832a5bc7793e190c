import { tmpdir } from 'node:os';
import type { TransformCallback } from 'node:stream';
import { RowError, reasonOf } from '../core/errors.js';
import { originOf } from '../core/origin.js';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkOneOf, checkOptions, fail, optionNames } from '../core/validate.js';
import { identity, type Reducer } from './aggregations.js';
import { compareValues, type Column, type KeyFunction } from './keys.js';
import { SpillFolder, estimateBytes, parseBytes } from '../spill/index.js';

export type GroupKey<T> = Column | readonly Column[] | KeyFunction<T>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Aggregations<T> = Record<string, Reducer<any, unknown, T>>;

export interface GroupByOptions {
  /**
   * The input is sorted by the key: groups stream out as the key changes, in constant
   * memory; a row whose key sorts before the previous row's fails the stage.
   * @default false
   */
  sorted?: boolean;
  /**
   * Bytes of groups held (estimated) before new keys' rows are spilled to hash partitions on disk.
   * @default '64MB'
   */
  memory?: number | string;
  /** Where the private spill folder is made. @default os.tmpdir() */
  tmpDir?: string;
  /**
   * `'object'`: the key columns by name (`key0`, `key1`, … for indexes and `key` for a
   * function) then each aggregation by its name; `'array'`: key values then results, in order.
   * @default 'object'
   */
  output?: 'object' | 'array';
  /** @default 16 */
  highWaterMark?: number;
}

/** The option names groupBy() accepts (an unknown one is a TypeError). */
const GROUP_BY_OPTIONS = optionNames<GroupByOptions>('groupBy()', { sorted: true, memory: true, tmpDir: true, output: true, highWaterMark: true });

interface Group {
  keys: unknown[];
  states: unknown[];
}

const PARTITIONS = 16;

/**
 * Invariants: a key is aggregated either wholly in memory (it was seen while the groups fit)
 * or wholly from its hash partition on disk (rows in input order), so `first`/`last` hold
 * after a spill; partition buffers are written out before they pass a quarter of `memory`.
 */
class GroupByStage<T> extends Stage<T, unknown> {
  private readonly groups = new Map<string, Group>();
  private bytes = 0;
  /** The groups outgrew `memory`: rows of keys not in memory go to partitions. */
  private frozen = false;
  private readonly parts: unknown[][] = Array.from({ length: PARTITIONS }, () => []);
  private partBytes = 0;
  private readonly partFiles: string[][] = Array.from({ length: PARTITIONS }, () => []);
  private readonly folder: SpillFolder;
  // sorted: true
  private current: Group | null = null;
  private currentId = '';
  private queue: unknown[] = [];
  private loading = false;
  private nextPart = 0;
  private flushed: TransformCallback | null = null;

  constructor(
    name: string,
    private readonly keyOf: (row: T) => unknown[],
    private readonly keyNames: string[],
    private readonly names: string[],
    private readonly reducers: Reducer<unknown, unknown, T>[],
    private readonly sorted: boolean,
    private readonly memory: number,
    private readonly asArray: boolean,
    tmpDir: string,
    highWaterMark: number | undefined,
  ) {
    super(name, highWaterMark);
    this.folder = new SpillFolder(name, tmpDir);
  }

  /** Partition files written. */
  get partitionsSpilled(): number {
    return this.partFiles.reduce((n, files) => n + files.length, 0);
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    try {
      const keys = this.keyOf(row);
      if (this.sorted) this.addSorted(row, keys, index);
      else if (this.addHashed(row, keys)) {
        this.spillParts().then(() => callback(), callback);
        return;
      }
    } catch (error) {
      callback(error instanceof RowError ? error : new RowError(this.stage, index, originOf(row), reasonOf(error), error));
      return;
    }
    callback();
  }

  private addSorted(row: T, keys: unknown[], index: number): void {
    const id = identity(keys);
    if (this.current && id !== this.currentId) {
      if (compareKeys(keys, this.current.keys) < 0) {
        throw new RowError(this.stage, index, originOf(row), `the input is not sorted by the key: row ${index} sorts before row ${index - 1}`);
      }
      this.stats.out++;
      this.push(this.result(this.current));
      this.current = null;
    }
    if (!this.current) {
      this.current = this.newGroup(keys);
      this.currentId = id;
    }
    this.addTo(this.current, row);
  }

  /** Adds in memory, or to a partition; true when the partitions should be written out. */
  private addHashed(row: T, keys: unknown[]): boolean {
    const id = identity(keys);
    let group = this.groups.get(id);
    if (!group) {
      if (this.frozen) {
        this.parts[hash(id) % PARTITIONS]!.push(row);
        this.partBytes += estimateBytes(row);
        return this.partBytes >= this.memory / 4;
      }
      group = this.newGroup(keys);
      this.groups.set(id, group);
      this.bytes += 96 + id.length * 2 + estimateBytes(keys) + 32 * this.reducers.length;
      if (this.bytes >= this.memory) this.frozen = true;
    }
    this.addTo(group, row);
    return false;
  }

  private async spillParts(): Promise<void> {
    for (let p = 0; p < PARTITIONS; p++) {
      const rows = this.parts[p]!;
      if (rows.length === 0) continue;
      this.parts[p] = [];
      this.partFiles[p]!.push(await this.folder.writeRun(rows));
    }
    this.partBytes = 0;
  }

  private newGroup(keys: unknown[]): Group {
    return { keys, states: this.reducers.map((r) => r.init()) };
  }

  private addTo(group: Group, row: T): void {
    for (let i = 0; i < this.reducers.length; i++) group.states[i] = this.reducers[i]!.add(group.states[i], row);
  }

  private result(group: Group): unknown {
    const values = group.states.map((s, i) => this.reducers[i]!.result(s));
    if (this.asArray) return [...group.keys, ...values];
    const out: Record<string, unknown> = {};
    const put = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    this.keyNames.forEach((k, i) => put(k, group.keys[i]));
    this.names.forEach((k, i) => put(k, values[i]));
    return out;
  }

  override _flush(callback: TransformCallback): void {
    if (this.sorted) {
      if (this.current) {
        this.stats.out++;
        this.push(this.result(this.current));
      }
      callback();
      return;
    }
    this.flushed = callback;
    for (const group of this.groups.values()) this.queue.push(this.result(group));
    this.groups.clear();
    const spilled = this.partitionsSpilled > 0;
    (spilled ? this.spillParts() : Promise.resolve()).then(() => {
      if (!spilled) {
        // Never spilled: what is left in the partitions (none) and nothing on disk.
        this.nextPart = PARTITIONS;
        for (const rows of this.parts) this.aggregate(rows);
      }
      this.pump();
    }, (error) => this.destroy(error));
  }

  /** Aggregates one partition's rows into the output queue. */
  private aggregate(rows: unknown[]): void {
    const groups = new Map<string, Group>();
    for (const row of rows as T[]) {
      const keys = this.keyOf(row);
      const id = identity(keys);
      let group = groups.get(id);
      if (!group) groups.set(id, (group = this.newGroup(keys)));
      this.addTo(group, row);
    }
    for (const group of groups.values()) this.queue.push(this.result(group));
  }

  private async loadPartition(p: number): Promise<void> {
    const rows: unknown[] = [];
    for (const file of this.partFiles[p]!) {
      const reader = await this.folder.read(file);
      for (let row = await reader.next(); row !== undefined; row = await reader.next()) rows.push(row);
    }
    this.aggregate(rows);
  }

  private pump(): void {
    if (this.flushed === null || this.loading || this.destroyed) return;
    while (this.queue.length > 0) {
      const row = this.queue.shift();
      this.stats.out++;
      if (!this.push(row)) return;
    }
    if (this.nextPart < PARTITIONS) {
      this.loading = true;
      this.loadPartition(this.nextPart++).then(() => {
        this.loading = false;
        this.pump();
      }, (error) => this.destroy(error));
      return;
    }
    const callback = this.flushed;
    this.flushed = null;
    this.folder.remove().then(() => callback(), (error) => this.destroy(error));
  }

  override _read(size: number): void {
    super._read(size);
    this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.flushed = null;
    this.queue = [];
    this.groups.clear();
    this.folder.remove().then(() => callback(error), (e) => callback(error ?? e));
  }
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareValues(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/** FNV-1a of a key's identity string. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function column(c: unknown, path: string): Column {
  if ((typeof c === 'number' && Number.isInteger(c) && c >= 0) || typeof c === 'string') return c;
  return fail(path, 'a column index from 0 and up, a column name or a function', c);
}

/**
 * Groups rows by a key and aggregates each group: `aggregations` names each result
 * (`{ tickets: agg.count(), fines: agg.sum('fine') }`, or a user `Reducer`). With
 * `sorted: true` groups stream out in key order in constant memory; otherwise a hash table
 * holds the groups up to `memory`, after which rows of new keys are spilled to 16 hash
 * partitions and aggregated one partition at a time at the end (output order: groups in
 * memory by first appearance, then partition by partition — sort afterwards if it matters).
 *
 * @example groupBy([2, 5], { tickets: agg.count() }, { output: 'array' }) // state, code, count
 */
export function groupBy<T = unknown>(key: GroupKey<T>, aggregations: Aggregations<T>, options: GroupByOptions & { output: 'array' }): Stage<T, unknown[]>;
export function groupBy<T = unknown>(key: GroupKey<T>, aggregations: Aggregations<T>, options?: GroupByOptions): Stage<T, Record<string, unknown>>;
export function groupBy<T = unknown>(key: GroupKey<T>, aggregations: Aggregations<T>, options: GroupByOptions = {}): Stage<T, unknown> {
  const o = checkOptions('options', options, GROUP_BY_OPTIONS);
  let keyOf: (row: T) => unknown[];
  let keyNames: string[];
  if (typeof key === 'function') {
    keyOf = (row) => [key(row)];
    keyNames = ['key'];
  } else {
    const columns = (Array.isArray(key) ? key : [key]).map((c, i) => column(c, Array.isArray(key) ? `key[${i}]` : 'key'));
    if (columns.length === 0) fail('key', 'a column, a function or a non-empty list of columns', key);
    keyOf = (row) => columns.map((c) => (row as Record<string | number, unknown>)[c]);
    keyNames = columns.map((c) => (typeof c === 'string' ? c : `key${c}`));
  }
  const a = checkOptions('aggregations', aggregations);
  const names = Object.keys(a);
  const reducers = names.map((name) => {
    const r = a[name] as Reducer<unknown, unknown, T>;
    if (typeof r !== 'object' || r === null || typeof r.init !== 'function' || typeof r.add !== 'function' || typeof r.result !== 'function') {
      fail(`aggregations.${name}`, 'a reducer { init, add, result }', r);
    }
    return r;
  });
  const memory = o.memory === undefined ? 64 * 1024 ** 2 : parseBytes('memory', o.memory);
  const output = o.output === undefined ? 'object' : checkOneOf('output', o.output, ['object', 'array'] as const);
  if (o.tmpDir !== undefined && (typeof o.tmpDir !== 'string' || o.tmpDir === '')) fail('tmpDir', 'a folder path', o.tmpDir);
  return new GroupByStage<T>('groupBy()', keyOf, keyNames, names, reducers, o.sorted === true, memory, output === 'array', (o.tmpDir as string | undefined) ?? tmpdir(), checkHighWaterMark('highWaterMark', o.highWaterMark));
}
