import { Transform, type TransformOptions } from 'node:stream';
import { inheritOrigin } from './origin.js';
import { RowBatch } from './row-batch.js';

/** Row counts of one stage; `run()` adds them up into its summary. */
export interface StageStats {
  /** Rows that reached the stage. */
  in: number;
  /** Rows (or batches) the stage passed on. */
  out: number;
  /** Rows the stage dropped on purpose (filter, skip, after take's limit). */
  filtered: number;
  /** Rows the stage sent to the reject channel. */
  rejected: number;
}

/** The parts of a Transform's states that its `_write` reads (Node's own fields). */
interface StreamStates {
  _readableState: { ended: boolean; length: number; highWaterMark: number };
  _writableState: { ended: boolean };
}

/**
 * The base of every sluice operation: an object-mode Transform that names itself (for
 * error messages) and counts what passes through it.
 */
export class Stage<In = unknown, Out = unknown> extends Transform {
  /** Typed marker for the row types; never set at run time. */
  declare readonly __types?: { in: (row: In) => void; out: Out };
  readonly stats: StageStats = { in: 0, out: 0, filtered: 0, rejected: 0 };
  /** Whether the rows passed on while a batch is taken apart leave as one batch (see `batchOutput()`). */
  private batching = false;
  /** While a batch is taken apart (with `batching`): the rows passed on so far. */
  private collected: unknown[] | null = null;
  /** A batch's callback, held back while its rows fill the output (see `writeRows`). */
  private heldBatch: (() => void) | null = null;
  /** The write whose row is being transformed, and the output's length when it began (see `transformRow`). */
  #writing: ((error?: Error | null) => void) | null = null;
  #lengthBefore = 0;
  /** A write's callback, held back while the output is full (Transform's own, which `_read` releases). */
  #heldWrite: ((error?: Error | null) => void) | null = null;
  /**
   * Set by `run()`/`pipe()` once a `take(n)` after this stage has its n rows: every row that
   * reaches this stage from then on is past the limit (rows keep their order), so the
   * stages that call user functions (row operations, callService, batch) drop it without
   * calling them (`droppedPastLimit`).
   */
  pastLimit = false;

  constructor(
    /** How the stage appears in errors and rejects, e.g. `map(addDays)`. */
    readonly stage: string,
    highWaterMark?: number,
    options: TransformOptions = {},
  ) {
    super({ readableObjectMode: true, writableObjectMode: true, ...(highWaterMark === undefined ? {} : { highWaterMark }), ...options });
  }

  /**
   * A {@link RowBatch} is transformed one row at a time, as if each row had been written on
   * its own: the next row goes in only once the previous row's transform has called back,
   * which Transform holds back while the output is full — so a batch pauses mid-way under
   * backpressure, and a failure on one row stops the rest of its batch, as does a source
   * stopped early (`take`).
   */
  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (chunk instanceof RowBatch) this.writeRows(chunk, encoding, callback);
    else this.transformRow(chunk, encoding, callback);
  }

  /**
   * Transform's `_write`, with one callback for every row instead of a closure a row (120
   * bytes of garbage a row and a stage): `_transform` runs the row; once it calls back, the
   * write's callback is called at once while the output has room (or the row added nothing
   * to it), else held until the consumer reads; after `push(null)`, a tick later. Writes
   * come one at a time, so one pending write is all there is to keep.
   */
  private transformRow(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writing = callback;
    this.#lengthBefore = this.readableLength;
    this._transform(chunk, encoding, this.transformed);
  }

  private readonly transformed = (error?: Error | null, value?: unknown): void => {
    const callback = this.#writing;
    if (callback === null) {
      // As Node's ERR_MULTIPLE_CALLBACK: the stage fails, nothing throws where it was called.
      this.destroy(new Error(`${this.stage}: a row's transform called back twice`));
      return;
    }
    this.#writing = null;
    if (error) {
      callback(error);
      return;
    }
    if (value !== null && value !== undefined) this.push(value);
    const { _readableState: readable, _writableState: writable } = this as unknown as StreamStates;
    if (readable.ended) process.nextTick(callback);
    else if (writable.ended || this.#lengthBefore === readable.length || readable.length < readable.highWaterMark) callback();
    else this.#heldWrite = callback;
  };

  private writeRows(batch: RowBatch, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const { rows } = batch;
    let i = 0;
    let sync = false;
    let settled = false;
    let failure: Error | null | undefined;
    // One callback for the whole batch (not a closure a row): the row's transform calls it,
    // at once or later — then the batch goes on from the next row.
    const rowDone = (error?: Error | null): void => {
      if (sync) {
        settled = true;
        failure = error;
      } else if (error) {
        callback(error);
      } else {
        i++;
        next();
      }
    };
    const next = (): void => {
      if (this.batching) this.collected = [];
      for (; i < rows.length; i++) {
        if (this.destroyed || batch.stopsAt(i)) break;
        sync = true;
        settled = false;
        this.transformRow(rows[i], encoding, rowDone);
        sync = false;
        if (!settled) {
          this.passCollected();
          return; // resumed by rowDone
        }
        if (failure) {
          this.passCollected();
          callback(failure);
          return;
        }
      }
      this.passCollected();
      // Rows passed on as one batch were pushed at once, past Transform's check after each
      // row: the next batch waits until the consumer has read (as Transform holds a write).
      if (this.batching && !this.destroyed && this.readableLength >= this.readableHighWaterMark) this.heldBatch = callback;
      else callback();
    };
    next();
  }

  override _read(size: number): void {
    super._read(size);
    if (this.#heldWrite) {
      const callback = this.#heldWrite;
      this.#heldWrite = null;
      callback();
    }
    // Released a tick later, as RowOperation releases its held write (see there).
    if (this.heldBatch) process.nextTick(this.releaseBatch);
  }

  private readonly releaseBatch = (): void => {
    const callback = this.heldBatch;
    if (!callback || this.destroyed || this.readableLength >= this.readableHighWaterMark) return;
    this.heldBatch = null;
    callback();
  };

  /**
   * Internal (lib/pipeline/batch-rows.ts): the rows this stage passes on while it takes a
   * batch apart leave as one batch too (at the end of the batch, or where it waits for an
   * async call); the output buffer then holds one batch. Only for stages that pass every row
   * on through `pushOut` (the row operations).
   */
  batchOutput(): void {
    this.batching = true;
    (this as unknown as { _readableState: { highWaterMark: number } })._readableState.highWaterMark = 1;
  }

  /** Passes on the rows collected so far as one batch; collects again from here. */
  private passCollected(): void {
    const rows = this.collected;
    this.collected = null;
    if (rows !== null && rows.length > 0 && !this.destroyed) this.push(new RowBatch(rows));
  }

  /** A row that arrived past a take(n)'s limit (see `pastLimit`): counted as filtered and called back. */
  protected droppedPastLimit(callback: () => void): boolean {
    if (!this.pastLimit) return false;
    this.stats.filtered++;
    callback();
    return true;
  }

  /** Passes a row on, counting it and keeping the source line of the row it came from. */
  protected pushOut(from: unknown, value: Out): void {
    this.stats.out++;
    inheritOrigin(from, value);
    if (this.collected) this.collected.push(value);
    else this.push(value);
  }
}

/**
 * Implemented by a sink that counts the rows it has written (`csv.write`, `postgres.write`):
 * `run()` takes `written` from it instead of counting the rows on their way in, which costs
 * a stream hop per row.
 */
export const writtenRows = Symbol('sluice.writtenRows');

/** Whether `value` is a sink that counts its rows (see {@link writtenRows}). */
export function countsWritten(value: unknown): value is { [writtenRows](): number } {
  return typeof value === 'object' && value !== null && typeof (value as { [writtenRows]?: unknown })[writtenRows] === 'function';
}

export function isStage(value: unknown): value is Stage {
  return value instanceof Stage;
}

/** `name` of a user function for stage names: `map(addDays)`, or `map()` for arrows. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function stageName(operation: string, fn?: Function): string {
  return `${operation}(${fn?.name ?? ''})`;
}

// Type-only: iterating a stage (or a `pipe()` ending in one) yields its `Out` rows (the
// first overload, the one `for await` takes); the second keeps a stage a NodeJS.ReadableStream
// to Node's own typings, so that `stream.pipeline(csv.read(…), map(…), …)` type-checks.
export interface Stage<In = unknown, Out = unknown> {
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Out>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<any>;
}
