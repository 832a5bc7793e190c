import { tmpdir } from 'node:os';
import type { TransformCallback } from 'node:stream';
import { checkOptions, fail, invalid, moreOptionNames, named } from '../core/validate.js';
import { isSourceLike, type SourceLike } from '../pipeline/index.js';
import { SpillFolder, parseBytes } from '../spill/index.js';
import type { Joined } from './combine.js';
import { commonOptions, JOIN_OPTIONS, JoinBase, type JoinOptions, type JoinStage } from './join-stage.js';
import { describeKey, keyId } from './keys.js';
import { FANOUT, Partitions, heldBytes } from './partitions.js';
import { END, PENDING } from './side-reader.js';

export interface HashJoinOptions<L, R, Out> extends JoinOptions<L, R, Out> {
  /**
   * The most bytes (estimated) of build rows held in the hash table: a number or a size such
   * as `'64MB'`. Past it, both sides are partitioned by key hash to disk and joined a
   * partition at a time (a grace hash join).
   * @default '64MB'
   */
  memory?: number | string;
  /** Where the stage makes its private spill folder (mode 0700). @default os.tmpdir() */
  tmpDir?: string;
}

const HASH_JOIN_OPTIONS = moreOptionNames<HashJoinOptions<unknown, unknown, unknown>, JoinOptions<unknown, unknown, unknown>>('hashJoin()', JOIN_OPTIONS, { memory: true, tmpDir: true });

/** `hashJoin()`'s stage: also says whether and how much it spilled. */
export interface HashJoinStage<L, Out> extends JoinStage<L, Out> {
  /** Whether the build side outgrew `memory` (then the output comes partition by partition). */
  readonly spilled: boolean;
  /** Bytes written to partition files. */
  readonly bytesSpilled: number;
}

interface Entry<R> {
  rows: R[];
  matched: boolean;
}

/** Per row held in the table beyond the row itself: the entry, its array slot, the map slot, the key string. */
const ENTRY_BYTES = 160;
/**
 * Where the table holds the build rows whose key is null (kept only by right and full joins,
 * to leave with the other unmatched build rows): no key has this identity (`keyId` of a
 * key of no values), so no probe row ever finds it.
 */
const NULL_KEY = '\u0000';
/** Partitioning levels before a partition that still does not fit is given up on. */
const MAX_LEVELS = 4;

/**
 * Invariants: the hash table holds at most `memory` bytes of build rows (estimated); once it
 * would pass that, no table is held while the inputs are partitioned (buffers ≤ memory / 2),
 * and each partition is joined alone — split again (another hash seed) if its build rows
 * still do not fit. Without a spill the probe rows leave in their order.
 */
class HashJoinStageImpl<L, R, Out> extends JoinBase<L, R, Out> implements HashJoinStage<L, Out> {
  private table: Map<string, Entry<R>> | null = null;
  private tableBytes = 0;
  private loading: Promise<void> | null = null;
  private buildParts: Partitions | null = null;
  private probeParts: Partitions | null = null;
  /** Every set of partitions being written (the top level's and those of splits), ended on the way out. */
  private readonly writing = new Set<Partitions>();
  private readonly folder: SpillFolder;
  private leftN = 0;
  private rightN = 0;

  constructor(name: string, build: SourceLike, options: HashJoinOptions<L, R, Out>, private readonly memory: number, tmpDir: string) {
    super(name, build, commonOptions<L, R, Out>(options, HASH_JOIN_OPTIONS));
    this.folder = new SpillFolder(name, tmpDir);
  }

  get spilled(): boolean {
    return this.buildParts !== null;
  }

  get bytesSpilled(): number {
    return this.folder.bytesWritten;
  }

  override _transform(row: L, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.table) {
      // The common case, synchronous: the build side is in memory.
      try {
        const room = this.probe(row);
        if (room) room.then(() => callback(), callback);
        else callback();
      } catch (error) {
        callback(error as Error);
      }
      return;
    }
    this.build()
      .then(() => (this.table ? this.probe(row) : this.partitionProbe(row)))
      .then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.build()
      .then(() => (this.table ? this.finishInMemory() : this.finishPartitioned()))
      .then(() => this.folder.remove())
      .then(() => callback(), callback);
  }

  /** Loads the build side (once): into the table, or into partitions once it outgrows memory. */
  private build(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    const table = new Map<string, Entry<R>>();
    const other = this.other;
    for (;;) {
      // Synchronously while rows are buffered; a promise only when the side must be waited for.
      let x = other.take();
      if (x === PENDING) x = await other.next();
      if (x === END) break;
      const row = x as R;
      const n = ++this.rightN;
      if (n === 1) this.saw(1, row);
      this.metrics.right.rows++;
      let id = this.idOf('right', n, row);
      if (id === null) {
        this.metrics.right.nullKeys++;
        // It never matches: right and full joins keep it, with the other unmatched build rows, for after the probe rows.
        if (!this.keepRight) {
          this.unmatchedRightNow(row);
          continue;
        }
        id = NULL_KEY;
      }
      if (this.buildParts) {
        if (this.buildParts.add(row, id)) await this.buildParts.flush();
        continue;
      }
      const entry = table.get(id);
      if (entry) entry.rows.push(row);
      else table.set(id, { rows: [row], matched: false });
      this.tableBytes += heldBytes(row) + ENTRY_BYTES;
      if (this.tableBytes > this.memory) {
        // Outgrown: every row held goes to the partitions; from now on rows go there directly.
        this.buildParts = this.partitions(0);
        this.probeParts = this.partitions(0);
        for (const [key, e] of table) {
          for (const r of e.rows) if (this.buildParts.add(r, key)) await this.buildParts.flush();
        }
        table.clear();
      }
    }
    if (this.buildParts) await this.finished(this.buildParts);
    else this.table = table;
    await this.closeOther();
  }

  /** The row's key identity, or null for a null key; a failing key function names the side and row. */
  private idOf(side: 'left' | 'right', n: number, row: unknown): string | null {
    try {
      const key = side === 'left' ? this.keys.left(row as L) : this.keys.right(row as R);
      return key === null ? null : keyId(key);
    } catch (error) {
      throw this.rowError(side, n, row, error);
    }
  }

  /** A partitioned build row's key identity (checked once already, on the way in); NULL_KEY for a null key. */
  private buildId(row: R): string {
    const key = this.keys.right(row);
    return key === null ? NULL_KEY : keyId(key);
  }

  /** Joins a probe row with the table; returns a promise when it must wait for room. */
  private probe(row: L, table = this.table!): Promise<void> | null {
    const n = ++this.leftN;
    this.metrics.left.rows++;
    const id = this.idOf('left', n, row);
    const entry = id === null ? undefined : table.get(id);
    if (id === null) this.metrics.left.nullKeys++;
    if (!entry) {
      this.metrics.left.unmatched++;
      if (this.keepLeft) this.output(row, row, null);
      else this.stats.filtered++;
      return this.room();
    }
    this.metrics.left.matched++;
    if (!entry.matched) {
      entry.matched = true;
      this.metrics.right.matched += entry.rows.length;
    }
    const rows = entry.rows;
    if (rows.length === 1) {
      this.output(row, row, rows[0]!);
      return this.room();
    }
    return this.pairs(row, rows);
  }

  private async pairs(row: L, rows: readonly R[]): Promise<void> {
    for (const right of rows) {
      if (this.destroyed) return;
      this.output(row, row, right);
      const room = this.room();
      if (room) await room;
    }
  }

  /** After a spill: a probe row goes to its partition (a null key never matches: it leaves now). */
  private async partitionProbe(row: L): Promise<void> {
    const id = this.idOf('left', this.stats.in, row);
    if (id === null) {
      await this.probe(row, new Map());
      return;
    }
    if (this.probeParts!.add(row, id)) await this.probeParts!.flush();
  }

  private async finishInMemory(): Promise<void> {
    await this.unmatchedOf(this.table!);
    this.table = null;
  }

  private async unmatchedOf(table: Map<string, Entry<R>>): Promise<void> {
    for (const entry of table.values()) {
      if (entry.matched) continue;
      for (const row of entry.rows) await this.unmatchedRight(row);
    }
  }

  private async finishPartitioned(): Promise<void> {
    const build = this.buildParts!;
    const probe = this.probeParts!;
    await this.finished(probe);
    for (let p = 0; p < FANOUT && !this.destroyed; p++) await this.joinPartition(build.files[p]!, probe.files[p]!, 1);
  }

  /** Joins one partition: its build rows into a table (split again when they do not fit), then its probe rows streamed. */
  private async joinPartition(buildFiles: string[], probeFiles: string[], level: number): Promise<void> {
    const table = new Map<string, Entry<R>>();
    let bytes = 0;
    let tooBig = false;
    read: for await (const batch of Partitions.batches(this.folder, buildFiles)) {
      for (const row of batch as R[]) {
        const id = this.buildId(row);
        const entry = table.get(id);
        if (entry) entry.rows.push(row);
        else table.set(id, { rows: [row], matched: false });
        bytes += heldBytes(row) + ENTRY_BYTES;
        if (bytes > this.memory) {
          tooBig = true;
          break read;
        }
      }
    }
    if (tooBig) {
      table.clear();
      if (level >= MAX_LEVELS) {
        const [first] = [...(await this.firstKey(buildFiles))];
        throw new Error(`${this.stage}: the build rows of one hash partition still pass memory (${this.memory} bytes) after ${MAX_LEVELS} levels of partitioning: one key (such as ${describeKey(first ?? null)}) has too many rows; raise memory or use mergeJoin`);
      }
      await this.split(buildFiles, probeFiles, level);
      return;
    }
    for await (const batch of Partitions.batches(this.folder, probeFiles)) {
      for (const row of batch as L[]) {
        if (this.destroyed) return;
        const room = this.probe(row, table);
        if (room) await room;
      }
    }
    await this.unmatchedOf(table);
  }

  /** A key of the partition (for the error message). */
  private async firstKey(files: string[]): Promise<unknown[][]> {
    for await (const [row] of Partitions.batches(this.folder, files)) return [this.keys.right(row as R)!];
    return [];
  }

  private async split(buildFiles: string[], probeFiles: string[], level: number): Promise<void> {
    const build = this.partitions(level);
    const probe = this.partitions(level);
    for (const [files, parts, side] of [[buildFiles, build, 'right'], [probeFiles, probe, 'left']] as const) {
      for await (const batch of Partitions.batches(this.folder, files)) {
        for (const row of batch) {
          const id = side === 'right' ? this.buildId(row as R) : keyId(this.keys.left(row as L)!);
          if (parts.add(row, id)) await parts.flush();
        }
      }
      await this.finished(parts);
    }
    for (let p = 0; p < FANOUT && !this.destroyed; p++) await this.joinPartition(build.files[p]!, probe.files[p]!, level + 1);
  }

  /** New partitions of a level, with buffers of half the budget (the other half: a partition's table while they are written). */
  private partitions(level: number): Partitions {
    const parts = new Partitions(this.folder, level, this.memory / 2);
    this.writing.add(parts);
    return parts;
  }

  private async finished(parts: Partitions): Promise<void> {
    await parts.finish();
    this.writing.delete(parts);
  }

  protected override release(): Promise<void> {
    this.table = null;
    for (const parts of this.writing) parts.abandon();
    this.writing.clear();
    return this.folder.remove();
  }
}

/**
 * Joins the rows written into it (the probe side, streamed) with `build` (any source), loaded
 * first into a hash table of at most `memory` bytes. When the build side outgrows it, both
 * sides are partitioned by key hash into a private spill folder and joined a partition at a
 * time (a grace hash join; a partition that still does not fit is split again), so a large ⋈
 * large join runs in a fixed budget. Without a spill the probe rows leave in their order
 * (each followed by its matches); after one, partition by partition. `type` `left` keeps
 * probe rows without a match, `right` build rows, `full` both; null keys never match. The
 * folder is removed on success, error, abort and early stop.
 *
 * @param build the side held in memory (the smaller one): a Readable, an (async) iterable or a generator function.
 * @example
 * await run(csv.read('tickets.csv', { rows: 'objects' }),
 *   hashJoin(csv.read('payments.csv', { rows: 'objects' }), { on: 'Summons Number', memory: '64MB', prefix: { right: 'payment_' } }),
 *   csv.write('joined.csv'));
 */
export function hashJoin<L = any, R = any, Out = Joined<L, R>>(build: SourceLike, options: HashJoinOptions<L, R, Out>): HashJoinStage<L, Out> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return named('hashJoin()', () => {
    const o = checkOptions('options', options, HASH_JOIN_OPTIONS);
    const memory = o.memory === undefined ? 64 * 1024 ** 2 : parseBytes('memory', o.memory);
    if (o.tmpDir !== undefined && (typeof o.tmpDir !== 'string' || o.tmpDir === '')) fail('tmpDir', 'a folder path', o.tmpDir);
    if (!isSourceLike(build)) throw invalid(`Expected \`build\` to be a source (a Readable, an iterable of rows or a generator), got ${build === null ? 'null' : typeof build}`);
    return new HashJoinStageImpl<L, R, Out>('hashJoin()', build, options, memory, (o.tmpDir as string | undefined) ?? tmpdir());
  });
}
