import { tmpdir } from 'node:os';
import type { TransformCallback } from 'node:stream';
import { RowError, reasonOf } from '../core/errors.js';
import { checkAbortSignal, destroyOnAbort } from './abort-stage.js';
import { originOf } from '../core/origin.js';
import { Stage } from '../core/stage.js';
import { checkFunction, checkHighWaterMark, checkInteger, checkOptions, fail, named, optionNames } from '../core/validate.js';
import { keyColumns, keysComparator, sortKeys, textRowKeys, type Compare, type ResolvedKey, type SortBy } from './keys.js';
import type { TextRowReader } from '../core/fusion.js';
import { RecordReader, SpillFolder, parseBytes } from '../spill/index.js';
import { END, Merger, PENDING, RunSource, type RowSource } from './merge.js';
import { RunBuffer, emptyPool, runPool } from './run-buffer.js';

export interface SortOptions {
  /**
   * The most bytes of rows held in memory (estimated from the rows' contents): a number or a
   * size such as `'64MB'`. A run is sorted and spilled to disk when its rows reach it.
   * @default '64MB'
   */
  memory?: number | string;
  /**
   * Where the stage makes its private spill folder (`sluice-sort-XXXXXX`, mode 0700).
   * @default os.tmpdir()
   */
  tmpDir?: string;
  /**
   * The most run files read at once; with more runs, they are merged in passes.
   * @default 64
   */
  maxOpenFiles?: number;
  /** Compares two key values (for every key without its own `compare`). @default compareValues */
  compare?: Compare;
  /** Aborts the sort (its files are removed). */
  signal?: AbortSignal;
  /** @default 16 */
  highWaterMark?: number;
}

/** The bytes a run reader reads at once in the merge, at least and at most. */
const READ_MIN = 1 << 16;
const READ_MAX = 1 << 18;

/** The option names sort() accepts (an unknown one is a TypeError). */
const SORT_OPTIONS = optionNames<SortOptions>('sort()', { memory: true, tmpDir: true, maxOpenFiles: true, compare: true, signal: true, highWaterMark: true });

/** `sort()`'s stage: also says how much it spilled. */
export interface SortStage<T> extends Stage<T, T> {
  /** Run files written (intermediate merge passes included); 0 when the input fit in memory. */
  readonly runsWritten: number;
  /** Bytes written to run files. */
  readonly bytesSpilled: number;
  /** The private spill folder while it exists (null before the first spill). */
  readonly spillFolder: string | null;
}

/**
 * Invariants: rows held in memory (encoded, in a RunBuffer) stay under `memory` plus one row; at most
 * `maxOpenFiles` runs are read at once; the spill folder exists only between the first
 * spill and the end (success, error, destroy), and is the stage's alone.
 */
class SortStageImpl<T> extends Stage<T, T> implements SortStage<T>, TextRowReader {
  private buffer: RunBuffer<T>;
  /** Run memory reused from one run to the next (see RunBuffer). */
  private readonly pool = runPool();
  private runs: string[] = [];
  private readonly folder: SpillFolder;
  private source: RowSource | null = null;
  private pumping = false;
  private flushed: TransformCallback | null = null;
  runsWritten = 0;
  private readonly unlisten: () => void;

  private compare: (a: T, b: T) => number;

  constructor(
    name: string,
    private keys: ResolvedKey<T>[],
    private readonly columns: number[] | null,
    private readonly memory: number,
    private readonly maxOpenFiles: number,
    tmpDir: string,
    signal: AbortSignal | undefined,
    highWaterMark: number | undefined,
  ) {
    super(name, highWaterMark);
    this.folder = new SpillFolder(name, tmpDir);
    this.compare = keysComparator(keys);
    this.buffer = new RunBuffer(keys, this.pool);
    this.unlisten = destroyOnAbort(this, signal);
  }

  /**
   * Internal (lib/core/fusion.ts): when every key is a column index, those columns — csv.read
   * may then pass rows on as text rows holding only them (lib/pipeline/fuse-text-rows.ts), which
   * the sort keeps as text rows (spilled as such) for the CSV sink after it. From this call on,
   * the keys read a text row's fields read (before any row came in).
   */
  textRowReads(): readonly number[] | null {
    if (this.columns === null || this.stats.in !== 0) return null;
    this.keys = textRowKeys(this.keys);
    this.compare = keysComparator(this.keys);
    this.buffer = new RunBuffer(this.keys, this.pool);
    return this.columns;
  }

  get bytesSpilled(): number {
    return this.folder.bytesWritten;
  }

  get spillFolder(): string | null {
    return this.folder.removed ? null : this.folder.location;
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.droppedPastLimit(callback)) return;
    try {
      this.buffer.add(row);
    } catch (error) {
      callback(new RowError(this.stage, this.stats.in, originOf(row), reasonOf(error), error));
      return;
    }
    if (this.buffer.bytes < this.memory) callback();
    else this.spill().then(() => callback(), callback);
  }

  /** Sorts the rows held and writes them as the next run. */
  private async spill(): Promise<void> {
    const run = this.buffer;
    const order = this.sorted();
    this.runs.push(await this.folder.writeRecords(run.chunks(order)));
    run.release();
    this.buffer = new RunBuffer(this.keys, this.pool); // reusing what the run gave back
    this.runsWritten++;
  }

  private sorted(): Uint32Array {
    try {
      return this.buffer.order();
    } catch (error) {
      throw new Error(`${this.stage} failed comparing rows: ${reasonOf(error)}`, { cause: error });
    }
  }

  override _flush(callback: TransformCallback): void {
    this.flushed = callback;
    this.prepare().then(() => this.pump(), (error) => this.fail(error));
  }

  private async prepare(): Promise<void> {
    if (this.runs.length === 0) {
      this.source = new RunSource(this.buffer, this.sorted(), new RecordReader(`${this.stage}'s run in memory`));
      this.buffer = new RunBuffer(this.keys, this.pool);
      return;
    }
    if (this.buffer.count > 0) await this.spill();
    // The merge holds no run in memory: the run memory goes (nothing reads it, no write is pending).
    this.buffer.release();
    this.buffer = new RunBuffer(this.keys);
    emptyPool(this.pool, true);
    // Merge consecutive groups (earlier runs first, so ties keep input order) until one pass is left.
    while (this.runs.length > this.maxOpenFiles) {
      const next: string[] = [];
      for (let i = 0; i < this.runs.length; i += this.maxOpenFiles) {
        const group = this.runs.slice(i, i + this.maxOpenFiles);
        if (group.length === 1) {
          next.push(group[0]!);
          continue;
        }
        const merger = await this.merger(group);
        next.push(await this.folder.writeRun(merger.batches()));
        this.runsWritten++;
      }
      this.runs = next;
    }
    this.source = await this.merger(this.runs);
  }

  private async merger(files: string[]): Promise<Merger> {
    const readers = [];
    // Fewer, larger reads when the budget has room (measured on the 1 M-row sort: reads 4× as
    // large halved the main thread's time in them); the readers hold about `memory` at most,
    // but never under 64 kB each.
    const chunk = Math.max(READ_MIN, Math.min(READ_MAX, Math.floor(this.memory / (2 * files.length))));
    for (const file of files) readers.push(await this.folder.read(file, chunk));
    const merger = new Merger(readers, this.compare as (a: unknown, b: unknown) => number);
    await merger.start();
    return merger;
  }

  /** Pushes rows until the output is full (resumed by `_read`) or the rows end. */
  private pump(): void {
    const source = this.source;
    if (!source || this.pumping || this.destroyed) return;
    for (;;) {
      let x: unknown;
      try {
        x = source.take();
      } catch (error) {
        this.fail(error);
        return;
      }
      if (x === END) {
        this.source = null;
        this.finish();
        return;
      }
      if (x === PENDING) {
        this.pumping = true;
        source.refill().then(() => {
          this.pumping = false;
          // A full output waits for the consumer's next read (`_read` pumps again).
          if (this.readableLength < this.readableHighWaterMark) this.pump();
        }, (error) => this.fail(error));
        return;
      }
      this.stats.out++;
      if (!this.push(x)) return;
    }
  }

  override _read(size: number): void {
    super._read(size);
    if (this.source) this.pump();
  }

  private finish(): void {
    this.folder.remove().then(() => {
      const callback = this.flushed;
      this.flushed = null;
      callback?.();
    }, (error) => this.fail(error));
  }

  private fail(error: unknown): void {
    this.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.source = null;
    this.flushed = null;
    this.buffer = new RunBuffer(this.keys);
    emptyPool(this.pool);
    this.unlisten();
    this.folder.remove().then(() => callback(error), (e) => callback(error ?? e));
  }
}

/**
 * Sorts every row, within a byte budget: rows are held until they reach `memory`, then
 * sorted and spilled to a run file in a private folder under `tmpDir`; at the end the runs
 * are merged with a heap (in passes of `maxOpenFiles`). When the input fits, nothing touches
 * the disk. Stable; rows keep their origin. The folder is removed on success, error, abort
 * and early stop.
 *
 * `by`: a column index (array rows) or name (object rows), a key function, `{ key, order:
 * 'desc', compare }`, or a list of them (compared in turn).
 *
 * @example sort([{ key: 7 }, { key: 0 }], { memory: '64MB' }) // by make, then summons number
 * @example sort({ key: 'tickets', order: 'desc' })
 */
export function sort<T = unknown>(by: SortBy<T>, options: SortOptions = {}): SortStage<T> {
  return named('sort()', () => {
    const o = checkOptions('options', options, SORT_OPTIONS);
    const compare = o.compare === undefined ? undefined : checkFunction<Compare>('compare', o.compare);
    const keys = sortKeys<T>(by, compare);
    const memory = o.memory === undefined ? 64 * 1024 ** 2 : parseBytes('memory', o.memory);
    const maxOpenFiles = o.maxOpenFiles === undefined ? 64 : checkInteger('maxOpenFiles', o.maxOpenFiles, 2);
    if (o.tmpDir !== undefined && (typeof o.tmpDir !== 'string' || o.tmpDir === '')) fail('tmpDir', 'a folder path', o.tmpDir);
    const tmpDir = (o.tmpDir as string | undefined) ?? tmpdir();
    const signal = checkAbortSignal(o.signal);
    return new SortStageImpl<T>('sort()', keys, keyColumns(by), memory, maxOpenFiles, tmpDir, signal, checkHighWaterMark('highWaterMark', o.highWaterMark));
  });
}
