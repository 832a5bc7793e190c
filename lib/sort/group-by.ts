import { tmpdir } from 'node:os';
import type { TransformCallback } from 'node:stream';
import { RowError, reasonOf } from '../core/errors.js';
import { checkAbortSignal, destroyOnAbort } from './abort-stage.js';
import { originOf } from '../core/origin.js';
import { RowBatch } from '../core/row-batch.js';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkOneOf, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { slotsOf, type Reducer } from './aggregations.js';
import { groupTablePool, type Slots } from './group-table.js';
import { keyIdentity as identity } from '../spill/index.js';
import { compareValues, type Column } from './keys.js';
import type { Aggregations, GroupArray, GroupKey, GroupObject } from './group-row.js';
import { SpillFolder, parseBytes } from '../spill/index.js';
import { HashLevel, aggregatePartition, partitionWriters, type Aggregating, type Group } from './hash-partitions.js';

export type { Aggregations, GroupArray, GroupKey, GroupObject } from './group-row.js';

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
  /** Aborts the stage: it fails with `AbortError` and its spill folder is removed. */
  signal?: AbortSignal;
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
const GROUP_BY_OPTIONS = optionNames<GroupByOptions>('groupBy()', { sorted: true, memory: true, tmpDir: true, signal: true, output: true, highWaterMark: true });

/**
 * Invariants: with `sorted`, one group is held; otherwise the hash levels of
 * hash-partitions.ts hold the groups and partition buffers within `memory` (plus a quarter),
 * and the output queue holds one level's groups at a time.
 */
class GroupByStage<T> extends Stage<T, unknown> implements Aggregating<T> {
  private readonly folder: SpillFolder;
  private readonly top: HashLevel<T>;
  /** Partitions still to aggregate (their files and level), next first. */
  private pending: { files: string[]; level: number }[] = [];
  private filesWritten = 0;
  /** The deepest hash level aggregated (0: the partitions, if any, fitted at once). */
  deepestLevel = 0;
  // sorted: true
  private current: Group | null = null;
  private currentId = '';
  private queue: Iterator<Group> | null = null;
  private loading = false;
  private flushed: TransformCallback | null = null;
  private readonly unlisten: () => void;
  /** Whether a reducer's state grows with its rows (then measured after each row). */
  private readonly growing: boolean;
  readonly slots: Slots<T>[] | null;
  readonly tablePool = groupTablePool();
  readonly partitionWriters = partitionWriters();

  constructor(
    name: string,
    readonly keyOf: (row: T) => unknown[],
    readonly keyValue: ((row: T) => unknown) | null,
    private readonly keyNames: string[],
    private readonly names: string[],
    private readonly reducers: Reducer<unknown, unknown, T>[],
    private readonly sorted: boolean,
    private readonly memory: number,
    private readonly asArray: boolean,
    tmpDir: string,
    signal: AbortSignal | undefined,
    highWaterMark: number | undefined,
  ) {
    super(name, highWaterMark);
    this.growing = reducers.some((r) => typeof r.bytes === 'function');
    const slots = reducers.map((r) => slotsOf(r));
    this.slots = slots.every((s) => s !== undefined) ? slots : null;
    this.folder = new SpillFolder(name, tmpDir);
    this.top = new HashLevel<T>(this, memory, this.folder, 0);
    this.unlisten = destroyOnAbort(this, signal);
  }

  /** Partition files written (at every level). */
  get partitionsSpilled(): number {
    return this.filesWritten + this.top.filesWritten;
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    try {
      if (this.sorted) this.addSorted(row, this.keyOf(row), index);
      else if (this.top.add(row)) {
        this.top.writeParts().then(() => callback(), callback);
        return;
      }
    } catch (error) {
      callback(this.failure(error, index, row));
      return;
    }
    callback();
  }

  /**
   * Hashing takes a batch's rows in one loop, not one Transform write each (Stage's way): it
   * pushes nothing before the end, so there is no output to wait for between rows, and the
   * rest is what Stage does — stop at a failure, a destroy or a stopped source (see there),
   * and go on from the next row once the partitions are written.
   */
  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sorted || !(chunk instanceof RowBatch)) super._write(chunk, encoding, callback);
    else this.addRows(chunk, 0, callback);
  }

  private addRows(batch: RowBatch, from: number, callback: (error?: Error | null) => void): void {
    const { rows } = batch;
    for (let i = from; i < rows.length; i++) {
      if (this.destroyed || batch.stopsAt(i)) break;
      const row = rows[i] as T;
      const index = ++this.stats.in;
      let write: boolean;
      try {
        write = this.top.add(row);
      } catch (error) {
        callback(this.failure(error, index, row));
        return;
      }
      if (write) {
        this.top.writeParts().then(() => this.addRows(batch, i + 1, callback), callback);
        return;
      }
    }
    callback();
  }

  private failure(error: unknown, index: number, row: T): RowError {
    return error instanceof RowError ? error : new RowError(this.stage, index, originOf(row), reasonOf(error), error);
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

  newGroup(keys: unknown[]): Group {
    return { keys, states: this.reducers.map((r) => r.init()), grown: 0 };
  }

  addTo(group: Group, row: T): number {
    for (let i = 0; i < this.reducers.length; i++) group.states[i] = this.reducers[i]!.add(group.states[i], row);
    if (!this.growing) return 0;
    let bytes = 0;
    for (let i = 0; i < this.reducers.length; i++) bytes += this.reducers[i]!.bytes?.(group.states[i]) ?? 0;
    const grew = bytes - group.grown;
    group.grown = bytes;
    return grew;
  }

  private result(group: Group): unknown {
    if (this.asArray) {
      const row = group.keys.slice();
      for (let i = 0; i < this.reducers.length; i++) row.push(this.reducers[i]!.result(group.states[i]));
      return row;
    }
    const values = group.states.map((s, i) => this.reducers[i]!.result(s));
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
    (this.top.partitioned ? this.top.writeParts() : Promise.resolve()).then(() => {
      this.enqueue(this.top);
      this.pump();
    }, (error) => this.destroy(error));
  }

  /** A level's groups go to the output queue, its partitions before those still pending. */
  private enqueue(level: HashLevel<T>): void {
    this.queue = level.drain();
    if (level !== this.top) this.filesWritten += level.filesWritten;
    this.deepestLevel = Math.max(this.deepestLevel, level.level);
    const parts = level.files.filter((f) => f.length > 0).map((files) => ({ files, level: level.level }));
    this.pending = [...parts, ...this.pending];
  }

  private pump(): void {
    if (this.flushed === null || this.loading || this.destroyed) return;
    for (;;) {
      const next = this.queue?.next();
      if (!next || next.done) break;
      const group = next.value;
      let row: unknown;
      try {
        row = this.result(group);
      } catch (error) {
        this.destroy(new Error(`${this.stage} failed computing a result: ${reasonOf(error)}`, { cause: error }));
        return;
      }
      this.stats.out++;
      if (!this.push(row)) return;
    }
    const part = this.pending.shift();
    if (part) {
      this.loading = true;
      aggregatePartition(part.files, this, this.memory, this.folder, part.level).then((level) => {
        this.loading = false;
        this.enqueue(level);
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
    this.queue = null;
    this.pending = [];
    this.top.clear();
    this.unlisten();
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
export function groupBy<T, V, A extends Aggregations<T>>(key: (row: T) => V, aggregations: A, options: GroupByOptions & { output: 'array' }): Stage<T, GroupArray<T, (row: T) => V, A>>;
export function groupBy<T, V, A extends Aggregations<T>>(key: (row: T) => V, aggregations: A, options?: GroupByOptions & { output?: 'object' }): Stage<T, GroupObject<T, (row: T) => V, A>>;
export function groupBy<T = unknown, const K extends Column | readonly Column[] = Column | readonly Column[], A extends Aggregations<T> = Aggregations<T>>(key: K, aggregations: A, options: GroupByOptions & { output: 'array' }): Stage<T, GroupArray<T, K, A>>;
export function groupBy<T = unknown, const K extends Column | readonly Column[] = Column | readonly Column[], A extends Aggregations<T> = Aggregations<T>>(key: K, aggregations: A, options?: GroupByOptions & { output?: 'object' }): Stage<T, GroupObject<T, K, A>>;
export function groupBy<T = unknown>(key: GroupKey<T>, aggregations: Aggregations<T>, options?: GroupByOptions): Stage<T, Record<string, unknown> | unknown[]>;
export function groupBy<T = unknown>(key: GroupKey<T>, aggregations: Aggregations<T>, options: GroupByOptions = {}): Stage<T, unknown> {
  return named('groupBy()', () => {
    const o = checkOptions('options', options, GROUP_BY_OPTIONS);
    let keyOf: (row: T) => unknown[];
    // A key of one value is read without an array (the hash levels' per-row path).
    let keyValue: ((row: T) => unknown) | null = null;
    let keyNames: string[];
    if (typeof key === 'function') {
      keyValue = key;
      keyOf = (row) => [key(row)];
      keyNames = ['key'];
    } else {
      const columns = (Array.isArray(key) ? key : [key]).map((c, i) => column(c, Array.isArray(key) ? `key[${i}]` : 'key'));
      if (columns.length === 0) fail('key', 'a column, a function or a non-empty list of columns', key);
      keyOf = (row) => columns.map((c) => (row as Record<string | number, unknown>)[c]);
      if (columns.length === 1) {
        const c = columns[0]!;
        keyValue = (row) => (row as Record<string | number, unknown>)[c];
      }
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
    const signal = checkAbortSignal(o.signal);
    return new GroupByStage<T>('groupBy()', keyOf, keyValue, keyNames, names, reducers, o.sorted === true, memory, output === 'array', (o.tmpDir as string | undefined) ?? tmpdir(), signal, checkHighWaterMark('highWaterMark', o.highWaterMark));
  });
}
