import { tmpdir } from 'node:os';
import type { TransformCallback } from 'node:stream';
import { checkOptions, fail, invalid, moreOptionNames, named } from '../core/validate.js';
import { isSourceLike, type SourceLike } from '../pipeline/index.js';
import { SpillFolder, parseBytes } from '../spill/index.js';
import type { Joined } from './combine.js';
import { commonOptions, JOIN_OPTIONS, JoinBase, type JoinOptions, type JoinStage } from './join-stage.js';
import { EncodedTable } from './encoded-table.js';
import { describeKey, hashOf } from './keys.js';
import { FANOUT, Partitions } from './partitions.js';
import { END, PENDING } from './side-reader.js';

export interface HashJoinOptions<L, R, Out> extends JoinOptions<L, R, Out> {
  /**
   * The most bytes the build rows' hash tables hold (counted exactly: they hold the rows
   * encoded), with the partition buffers after a spill: a number or a size such as `'64MB'`.
   * Past it, the largest of the 16 hash partitions go to disk, both sides' rows of them, and
   * are joined a partition at a time at the end (a hybrid hash join).
   * @default '64MB'
   */
  memory?: number | string;
  /** Where the stage makes its private spill folder (mode 0700). @default os.tmpdir() */
  tmpDir?: string;
}

const HASH_JOIN_OPTIONS = moreOptionNames<HashJoinOptions<unknown, unknown, unknown>, JoinOptions<unknown, unknown, unknown>>('hashJoin()', JOIN_OPTIONS, { memory: true, tmpDir: true });

/** `hashJoin()`'s stage: also says whether and how much it spilled. */
export interface HashJoinStage<L, Out> extends JoinStage<L, Out> {
  /** Whether the build side outgrew `memory` (then the rows of the spilled partitions come at the end, partition by partition). */
  readonly spilled: boolean;
  /** Bytes written to partition files. */
  readonly bytesSpilled: number;
}

/**
 * Where the table holds the build rows whose key is null (kept only by right and full joins,
 * to leave with the other unmatched build rows): no key has this identity (`keyId` of a
 * key of no values), so no probe row ever finds it.
 */
const NULL_KEY = '\u0000';
/** Partitioning levels before a partition that still does not fit is given up on. */
const MAX_LEVELS = 4;
/** The share of `memory` for the partition buffers once something spilled (one side's at a time); the tables hold the rest. */
const BUFFER_SHARE = 1 / 16;

/**
 * Invariants: the build rows are held encoded (encoded-table.ts, bytes counted exactly) in
 * one table per top-level hash partition, together at most `memory` less the buffers'
 * share; once they would pass it, the largest tables are spilled (a hybrid hash join): their
 * partitions' build rows go to disk, and so will their probe rows, while the probe rows of
 * the partitions still in memory are joined as they arrive. Each spilled partition is then
 * joined alone, its table taking all of `memory` — split again (another hash seed) if its
 * build rows still do not fit. Without a spill the probe rows leave in their order.
 */
class HashJoinStageImpl<L, R, Out> extends JoinBase<L, R, Out> implements HashJoinStage<L, Out> {
  /** Each top-level partition's table while it is in memory (null once spilled), from when the build side is loaded to the end of the probe side. */
  private tables: (EncodedTable | null)[] | null = null;
  /** Bytes the tables hold (and `order`). */
  private held = 0;
  /** For right and full joins: each build row's top-level partition, in the order read, so that the unmatched ones leave in that order. */
  private order = new Uint8Array(0);
  private ordered = 0;
  private loaded = false;
  private loading: Promise<void> | null = null;
  private buildParts: Partitions | null = null;
  private probeParts: Partitions | null = null;
  /** Every set of partitions being written (the top level's and those of splits), ended on the way out. */
  private readonly writing = new Set<Partitions>();
  private readonly folder: SpillFolder;
  private leftN = 0;
  private rightN = 0;

  constructor(name: string, build: SourceLike, options: HashJoinOptions<L, R, Out>, private readonly memory: number, tmpDir: string) {
    super(name, build, commonOptions<L, R, Out>(options, HASH_JOIN_OPTIONS), true);
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
    if (this.loaded) {
      // The common case, synchronous: the build side is loaded.
      try {
        const wait = this.probe(row);
        if (wait) wait.then(() => callback(), callback);
        else callback();
      } catch (error) {
        callback(error as Error);
      }
      return;
    }
    this.build()
      .then(() => this.probe(row))
      .then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.build()
      .then(() => this.finish())
      .then(() => this.folder.remove())
      .then(() => callback(), callback);
  }

  /** Loads the build side (once): into the tables, the partitions of those spilled to disk. */
  private build(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    const tables = Array.from({ length: FANOUT }, () => this.table());
    this.tables = tables;
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
      const hash = hashOf(id);
      const table = tables[hash % FANOUT];
      if (this.keepRight) this.orderAdd(hash % FANOUT);
      if (table) {
        const before = table.bytes;
        try {
          table.add(row, id, hash);
        } catch (error) {
          throw this.rowError('right', n, row, error); // a value the spill format cannot hold
        }
        this.held += table.bytes - before;
        if (this.held > this.memory * (1 - BUFFER_SHARE) || table.full) await this.spillTables();
      } else if (this.buildParts!.add(row, id)) {
        await this.buildParts!.flush();
      }
    }
    if (this.buildParts) await this.finished(this.buildParts);
    this.loaded = true;
    await this.closeOther();
  }

  /** Spills the largest tables until the others fit: their rows go to their partitions' files, and so will the later rows of those partitions. */
  private async spillTables(): Promise<void> {
    const tables = this.tables!;
    const parts = (this.buildParts ??= this.partitions(0, this.memory * BUFFER_SHARE));
    while (this.held > this.memory * (1 - BUFFER_SHARE) || tables.some((t) => t?.full)) {
      let p = -1;
      for (let q = 0; q < FANOUT; q++) if (tables[q] && (p < 0 || tables[q]!.bytes > tables[p]!.bytes)) p = q;
      const table = tables[p]!;
      tables[p] = null;
      this.held -= table.bytes;
      for (const row of table.all()) if (parts.add(row, this.buildId(row as R))) await parts.flush();
    }
  }

  private orderAdd(p: number): void {
    if (this.ordered === this.order.length) {
      const order = new Uint8Array(Math.max(64, this.order.length * 2));
      order.set(this.order);
      this.held += order.length - this.order.length;
      this.order = order;
    }
    this.order[this.ordered++] = p;
  }

  /** An empty table of build rows. */
  private table(): EncodedTable {
    return new EncodedTable((row) => this.buildId(row as R));
  }

  /** The row's key identity, or null for a null key; a failing key function names the side and row. */
  private idOf(side: 'left' | 'right', n: number, row: unknown): string | null {
    try {
      return side === 'left' ? this.keys.leftId(row as L) : this.keys.rightId(row as R);
    } catch (error) {
      throw this.rowError(side, n, row, error);
    }
  }

  /** A held or partitioned build row's key identity (checked once already, on the way in); NULL_KEY for a null key. */
  private buildId(row: R): string {
    return this.keys.rightId(row) ?? NULL_KEY;
  }

  /** A probe row as it arrives: joined at once when its partition's table is in memory, else written to its partition; a promise when it must wait. */
  private probe(row: L): Promise<void> | null {
    const n = ++this.leftN;
    this.metrics.left.rows++;
    const id = this.idOf('left', n, row);
    if (id === null) {
      this.metrics.left.nullKeys++;
      return this.joined(row, null);
    }
    const hash = hashOf(id);
    const table = this.tables![hash % FANOUT];
    if (table) return this.joined(row, this.matches(table, id, hash));
    this.probeParts ??= this.partitions(0, this.memory * BUFFER_SHARE);
    return this.probeParts.add(row, id) ? this.probeParts.flush() : null;
  }

  /** The build rows of key `id` in `table` (counted as matched), or null. */
  private matches(table: EncodedTable, id: string, hash: number): R[] | null {
    const before = table.matchedRows;
    const rows = table.lookup(id, hash) as R[] | null;
    this.metrics.right.matched += table.matchedRows - before;
    return rows;
  }

  /** Passes on a probe row with each of its matches (none: alone, for left and full joins); a promise when it must wait for room. */
  private joined(row: L, rows: R[] | null): Promise<void> | null {
    if (rows === null) {
      this.metrics.left.unmatched++;
      if (this.keepLeft) this.output(row, row, null);
      else this.stats.filtered++;
      return this.room();
    }
    this.metrics.left.matched++;
    // Synchronously while the output has room (a promise only when a pair must wait for it).
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && this.destroyed) return null;
      this.output(row, row, rows[i]!);
      const room = this.room();
      if (room) return i + 1 < rows.length ? this.pairs(row, rows, i + 1, room) : room;
    }
    return null;
  }

  /** The pairs of `row` from its `from`th match on, once `room` is there (and after each that fills the output). */
  private async pairs(row: L, rows: readonly R[], from: number, room: Promise<void>): Promise<void> {
    await room;
    for (let i = from; i < rows.length; i++) {
      if (this.destroyed) return;
      this.output(row, row, rows[i]!);
      const more = this.room();
      if (more) await more;
    }
  }

  /** After the probe side: the tables' unmatched build rows, then each spilled partition joined alone. */
  private async finish(): Promise<void> {
    const tables = this.tables!;
    const spilled = tables.map((table) => table === null);
    this.tables = null;
    const order = this.order;
    await this.unmatchedOf(tables, this.ordered, (i) => order[i]!);
    // Let go before the spilled partitions' tables take the budget.
    tables.fill(null);
    this.order = new Uint8Array(0);
    this.ordered = 0;
    if (!this.buildParts) return;
    const build = this.buildParts;
    const probe = this.probeParts;
    if (probe) await this.finished(probe);
    for (let p = 0; p < FANOUT && !this.destroyed; p++) if (spilled[p]) await this.joinPartition(build.files[p]!, probe?.files[p] ?? [], 1);
  }

  /**
   * Counts the unmatched build rows of `tables`, and passes them on for right and full joins
   * in the order read: of the `rows` rows read, the `i`th is the next of table `tableOf(i)` (none: spilled).
   */
  private async unmatchedOf(tables: readonly (EncodedTable | null)[], rows: number, tableOf: (i: number) => number): Promise<void> {
    if (!this.keepRight) {
      for (const table of tables) if (table) this.metrics.right.unmatched += table.rows - table.matchedRows;
      return;
    }
    const next = new Array<number>(tables.length).fill(0);
    for (let i = 0; i < rows && !this.destroyed; i++) {
      const t = tableOf(i);
      const row = tables[t]?.unmatchedAt(next[t]!++);
      if (row !== undefined) await this.unmatchedRight(row as R);
    }
  }

  /** Joins one partition: its build rows into a table (split again when they do not fit), then its probe rows streamed. */
  private async joinPartition(buildFiles: string[], probeFiles: string[], level: number): Promise<void> {
    const table = this.table();
    let tooBig = false;
    read: for await (const batch of Partitions.batches(this.folder, buildFiles)) {
      for (const row of batch) {
        const id = this.buildId(row as R);
        table.add(row, id, hashOf(id));
        if (table.bytes > this.memory || table.full) {
          tooBig = true;
          break read;
        }
      }
    }
    if (tooBig) {
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
        const id = this.keys.leftId(row)!;
        const room = this.joined(row, this.matches(table, id, hashOf(id)));
        if (room) await room;
      }
    }
    await this.unmatchedOf([table], table.rows, () => 0);
  }

  /** A key of the partition (for the error message). */
  private async firstKey(files: string[]): Promise<unknown[][]> {
    for await (const [row] of Partitions.batches(this.folder, files)) return [this.keys.right(row as R)!];
    return [];
  }

  private async split(buildFiles: string[], probeFiles: string[], level: number): Promise<void> {
    const build = this.partitions(level, this.memory / 2);
    const probe = this.partitions(level, this.memory / 2);
    for (const [files, parts, side] of [[buildFiles, build, 'right'], [probeFiles, probe, 'left']] as const) {
      for await (const batch of Partitions.batches(this.folder, files)) {
        for (const row of batch) {
          const id = side === 'right' ? this.buildId(row as R) : this.keys.leftId(row as L)!;
          if (parts.add(row, id)) await parts.flush();
        }
      }
      await this.finished(parts);
    }
    for (let p = 0; p < FANOUT && !this.destroyed; p++) await this.joinPartition(build.files[p]!, probe.files[p]!, level + 1);
  }

  /** New partitions of a level, whose buffers hold at most `budget` bytes. */
  private partitions(level: number, budget: number): Partitions {
    const parts = new Partitions(this.folder, level, budget);
    this.writing.add(parts);
    return parts;
  }

  private async finished(parts: Partitions): Promise<void> {
    await parts.finish();
    this.writing.delete(parts);
  }

  protected override release(): Promise<void> {
    this.tables = null;
    for (const parts of this.writing) parts.abandon();
    this.writing.clear();
    return this.folder.remove();
  }
}

/**
 * Joins the rows written into it (the probe side, streamed) with `build` (any source), loaded
 * first into hash tables (of encoded rows) of at most `memory` bytes. When the build side
 * outgrows it, the largest of its 16 hash partitions go to a private spill folder, with the
 * probe rows of those partitions, while the others join their probe rows as they arrive; the
 * spilled ones are joined a partition at a time at the end (a hybrid hash join; a partition
 * that still does not fit is split again), so a large ⋈ large join runs in a fixed budget.
 * Without a spill the probe rows leave in their order (each followed by its matches); after
 * one, those of spilled partitions leave at the end, partition by partition. `type` `left` keeps
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
