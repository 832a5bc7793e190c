import type { TransformCallback } from 'node:stream';
import { RowError, reasonOf } from './errors.js';
import { originOf } from './origin.js';
import { sendReject } from './reject.js';
import { Stage } from './stage.js';
import { checkHighWaterMark, checkInteger, checkOptions, fail, named, optionNames, type OptionNames } from './validate.js';

/**
 * What a stage does when its function throws (or rejects) on a row:
 * - `'fail'`: the pipeline fails with a {@link RowError} naming the stage and row (default);
 * - `'reject'`: the row goes to the reject channel (`run(…, { rejects })`) and the rest go on;
 * - `{ replaceWith }`: the row is replaced by a value, or by `replaceWith(row, error)`.
 */
export type OnError<In, Out> = 'fail' | 'reject' | { replaceWith: Out | ((row: In, error: Error) => Out) };

export interface RowOptions<In, Out> {
  /**
   * What to do when the function fails on a row.
   * @default 'fail'
   */
  onError?: OnError<In, Out>;
  /**
   * Object-mode high-water mark of both sides of the stream.
   * @default 16
   */
  highWaterMark?: number;
}

export interface ConcurrentOptions<In, Out> extends RowOptions<In, Out> {
  /**
   * How many calls of an async function may be in flight at once. Output order is input
   * order (unless `ordered: false`); at most `concurrency` rows are held by the stage.
   * @default 1
   */
  concurrency?: number;
  /**
   * `false`: each result leaves as soon as its call settles, so one slow call does not hold
   * back the ones after it (the window of `concurrency` rows and the accounting are the same).
   * @default true
   */
  ordered?: boolean;
}

/** The option names of the row operations without concurrency (set, replace, rename, select). */
export const ROW_OPTIONS = optionNames<RowOptions<unknown, unknown>>('', { onError: true, highWaterMark: true });
/** The option names of map, filter, tap and addColumn. */
export const CONCURRENT_OPTIONS = optionNames<ConcurrentOptions<unknown, unknown>>('', { onError: true, highWaterMark: true, concurrency: true, ordered: true });

/** Passed to user functions as their second argument. */
export interface RowContext {
  /** Aborted when the stage is destroyed (pipeline error, early stop, `AbortSignal`). */
  readonly signal: AbortSignal;
  /** 1-based number of the row within the rows that reached this stage. */
  readonly index: number;
}

interface Slot<In, R> {
  readonly row: In;
  readonly index: number;
  settled: boolean;
  ok: boolean;
  value?: R;
  error?: unknown;
}

export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

export interface ResolvedRowOptions<In, Out> {
  onError: OnError<In, Out>;
  highWaterMark?: number;
  concurrency: number;
  ordered: boolean;
}

export function resolveRowOptions<In, Out>(
  name: string,
  options: unknown,
  known: OptionNames = CONCURRENT_OPTIONS,
): ResolvedRowOptions<In, Out> {
  const factory = name.includes('(') ? name.replace(/\(.*\)$/s, '()') : `${name}()`;
  return named(factory, () => {
    const o = checkOptions('options', options, { ...known, factory }) as ConcurrentOptions<In, Out>;
    const onError = o.onError === undefined ? 'fail' : o.onError;
    if (onError !== 'fail' && onError !== 'reject') {
      if (typeof onError !== 'object' || onError === null || !('replaceWith' in onError)) {
        fail('onError', "'fail', 'reject' or { replaceWith }", onError);
      }
      // `null` would end an object-mode stream and `undefined` is no row (as for map's results).
      if (onError.replaceWith === null || onError.replaceWith === undefined) {
        fail('onError.replaceWith', 'a row or a function', onError.replaceWith);
      }
    }
    if (o.ordered !== undefined && typeof o.ordered !== 'boolean') fail('ordered', 'a boolean', o.ordered);
    return {
      onError,
      highWaterMark: checkHighWaterMark('highWaterMark', o.highWaterMark),
      concurrency: o.concurrency === undefined ? 1 : checkInteger('concurrency', o.concurrency, 1),
      ordered: o.ordered ?? true,
    };
  });
}

/**
 * A stage that calls a function per row, sync or async, and applies the `onError` policy.
 *
 * Invariants: output order is input order (with `ordered: false`, settle order); the stage holds at most `concurrency` rows
 * (a write's callback is held back while it is full, so backpressure reaches upstream);
 * a new row is taken only while the output buffer is below its high-water mark, so the
 * output buffer plus the rows in flight stay under highWaterMark + concurrency;
 * a sync result with nothing pending takes a fast path with no allocation.
 */
export abstract class RowOperation<In, Out, R = Out> extends Stage<In, Out> {
  private readonly controller = new AbortController();
  private readonly queue: Slot<In, R>[] = [];
  private heldWrite: TransformCallback | null = null;
  private heldFlush: TransformCallback | null = null;
  private delivering = false;
  private readonly onError: OnError<In, Out>;
  private readonly concurrency: number;
  private readonly ordered: boolean;

  constructor(stage: string, options: ResolvedRowOptions<In, Out>) {
    super(stage, options.highWaterMark);
    this.onError = options.onError;
    this.concurrency = options.concurrency;
    this.ordered = options.ordered;
  }

  /** The user's work for one row. */
  protected abstract call(row: In, context: RowContext): R | PromiseLike<R>;
  /** Passes on (or drops) a row given the call's result. */
  protected abstract deliver(row: In, result: R): void;
  /** Throws when a result cannot be delivered; the row then fails like a throwing call. */
  protected check(_result: R): void {}

  override _transform(row: In, _encoding: BufferEncoding, callback: TransformCallback): void {
    const index = ++this.stats.in;
    if (this.droppedPastLimit(callback)) return;
    let result: R | PromiseLike<R>;
    try {
      result = this.call(row, { signal: this.controller.signal, index });
      if (!isThenable(result)) this.check(result);
    } catch (error) {
      if (this.queue.length === 0) {
        this.handleFailure(row, index, error, (err) => callback(err));
        return;
      }
      this.enqueue({ row, index, settled: true, ok: false, error }, callback);
      return;
    }
    if (!isThenable(result)) {
      if (this.queue.length === 0) {
        this.deliver(row, result);
        callback();
        return;
      }
      this.enqueue({ row, index, settled: true, ok: true, value: result }, callback);
      return;
    }
    const slot: Slot<In, R> = { row, index, settled: false, ok: false };
    result.then(
      (value) => {
        try {
          this.check(value);
        } catch (error) {
          this.settle(slot, false, error);
          return;
        }
        this.settle(slot, true, value);
      },
      (error: unknown) => this.settle(slot, false, error),
    );
    this.enqueue(slot, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.queue.length === 0) callback();
    else this.heldFlush = callback;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.controller.abort(error ?? new Error(`${this.stage} was destroyed`));
    this.queue.length = 0;
    this.heldWrite = null;
    this.heldFlush = null;
    callback(error);
  }

  // Transform holds a write's callback while the output is full only for rows pushed
  // during `_transform`; async results are pushed later, so the stage checks the output
  // itself and a write held for that reason is released when the consumer reads. Not from
  // inside `_read`: the row is consumed only after it returns, and a callback given while
  // the output still looks full would be parked by Transform until the next `_read`, which
  // Readable does not call again before a push (no push may come: a deadlock).
  override _read(size: number): void {
    super._read(size);
    if (this.heldWrite) process.nextTick(this.releaseAfterRead);
  }

  private readonly releaseAfterRead = (): void => {
    if (!this.destroyed && this.heldWrite && this.queue.length < this.concurrency && !this.outputFull) this.releaseWrite();
  };

  private get outputFull(): boolean {
    return this.readableLength >= this.readableHighWaterMark;
  }

  private releaseWrite(): void {
    const callback = this.heldWrite!;
    this.heldWrite = null;
    callback();
  }

  private enqueue(slot: Slot<In, R>, callback: TransformCallback): void {
    this.queue.push(slot);
    if (this.queue.length < this.concurrency && !this.outputFull) callback();
    else this.heldWrite = callback;
    this.drain();
  }

  private settle(slot: Slot<In, R>, ok: boolean, value: unknown): void {
    if (this.destroyed) return;
    slot.settled = true;
    slot.ok = ok;
    if (ok) slot.value = value as R;
    else slot.error = value;
    this.drain();
  }

  /** Where the next row to deliver is in the queue: the head once settled, or (unordered) any settled one; -1 for none. */
  private nextSettled(): number {
    if (this.queue.length === 0) return -1;
    if (this.ordered) return this.queue[0].settled ? 0 : -1;
    // The queue holds at most `concurrency` slots, so a scan is cheap; the earliest settled
    // row leaves first, which keeps sync results in input order.
    return this.queue.findIndex((slot) => slot.settled);
  }

  /** Delivers settled rows: from the head of the queue, in order (or, unordered, as they settle). */
  private drain(): void {
    if (this.delivering) return;
    this.delivering = true;
    for (let at = this.nextSettled(); !this.destroyed && at !== -1; at = this.nextSettled()) {
      const slot = at === 0 ? this.queue.shift()! : this.queue.splice(at, 1)[0];
      if (this.pastLimit) {
        // A call that was in flight when take(n) got its n rows: its result (or failure)
        // would only be dropped by take.
        this.stats.filtered++;
        continue;
      }
      if (slot.ok) {
        this.deliver(slot.row, slot.value as R);
        continue;
      }
      // A failure may have to wait for the reject sink: resume from its callback.
      let pending = true;
      let async = false;
      this.handleFailure(slot.row, slot.index, slot.error, (err) => {
        pending = false;
        if (err) {
          this.destroy(err);
        } else if (async) {
          this.delivering = false;
          this.drain();
        }
      });
      if (pending) {
        async = true;
        return;
      }
    }
    this.delivering = false;
    if (this.destroyed) return;
    if (this.heldWrite && this.queue.length < this.concurrency && !this.outputFull) this.releaseWrite();
    if (this.heldFlush && this.queue.length === 0) {
      const callback = this.heldFlush;
      this.heldFlush = null;
      callback();
    }
  }

  private handleFailure(row: In, index: number, cause: unknown, done: (error?: Error | null) => void): void {
    const error =
      cause instanceof RowError && cause.stage === this.stage
        ? cause
        : new RowError(this.stage, index, originOf(row), reasonOf(cause), cause);
    applyOnError(this, this.onError, { row, index, reason: reasonOf(cause), error }, (value) => this.pushOut(row, value), done);
  }
}

/**
 * Applies an `onError` policy to a row whose function failed with `error` (a RowError of
 * `host`): fails (`done(error)`), sends the row to the rejects (`done` once stored), or
 * passes the replacement on with `pass`. Shared by the stages that run user functions.
 */
export function applyOnError<In, Out>(
  host: Stage<In, Out>,
  policy: OnError<In, Out>,
  failure: { readonly row: In; readonly index: number; readonly reason: string; readonly error: RowError },
  pass: (replacement: Out) => void,
  done: (error?: Error | null) => void,
): void {
  const { row, index, reason, error } = failure;
  if (policy === 'fail') {
    done(error);
  } else if (policy === 'reject') {
    host.stats.rejected++;
    sendReject(host, { stage: host.stage, reason, error, row, index, origin: originOf(row) }, done);
  } else {
    let replacement: Out;
    try {
      const { replaceWith } = policy;
      replacement = typeof replaceWith === 'function' ? (replaceWith as (r: In, e: Error) => Out)(row, error) : replaceWith;
      if (replacement === null || replacement === undefined) throw new TypeError(`returned ${replacement}`);
    } catch (replaceError) {
      done(new RowError(host.stage, index, originOf(row), `replaceWith failed: ${reasonOf(replaceError)}`, replaceError));
      return;
    }
    pass(replacement);
    done();
  }
}
