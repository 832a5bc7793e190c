import { Duplex, type Readable, type TransformCallback } from 'node:stream';
import { Stage } from '../core/stage.js';
import { checkHighWaterMark, checkInteger, checkOptions, named, optionNames } from '../core/validate.js';

export interface TakeOptions {
  /** @default 16 */
  highWaterMark?: number;
}

/** The option names take() accepts (an unknown one is a TypeError). */
const TAKE_OPTIONS = optionNames<TakeOptions>('take()', { highWaterMark: true });

/**
 * Passes the first `count` rows, then ends its output and emits `'stop'`: under `run()` or
 * `pipe()` that stops the source (its file is closed, its generator's `finally` runs) and
 * the pipeline then completes normally. Rows already in flight behind the limit are
 * dropped and counted as `filtered`: the row operations before `take` no longer call
 * their function on them, and drop the result of an async call that was already running
 * for one (so its failure cannot fail the pipeline). In a plain `stream.pipeline` (no
 * `run()` listening for `'stop'`), take releases the stream piped into it itself: it
 * unpipes it, ends it with nothing more read (dropping what it had buffered) and destroys
 * it, then ends its own input, so the pipeline completes without an error and an endless
 * source is never read past the limit. A `csv.read` source is ended the same way (its file
 * closed after the chunk that held row n). A Duplex between the source and take (a `map`,
 * or `csv.parse` after a file stream) is still read to its end and dropped in a plain
 * pipeline — use `run()`, which stops the source itself.
 */
class TakeStage<T> extends Stage<T, T> {
  /** True once the limit is reached. */
  stopped = false;

  private upstream: Readable | null = null;
  /** The source take ended itself (plain stream.pipeline); its close is awaited at our end. */
  private released: Readable | null = null;

  constructor(private readonly count: number, highWaterMark?: number) {
    super(`take(${count})`, highWaterMark);
    this.on('pipe', (source: Readable) => {
      this.upstream = source;
      if (this.stopped && this.listenerCount('stop') === 0) this.release(); // take(0)
    });
    if (count === 0) this.stop();
  }

  override _transform(row: T, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    if (this.stopped) {
      this.stats.filtered++;
    } else {
      this.pushOut(row, row);
      if (this.stats.out === this.count) this.stop();
    }
    callback();
  }

  /** Ends once a source we released has closed (its file, its generator's finally), so the pipeline resolves after that. */
  override _flush(callback: TransformCallback): void {
    const source = this.released as (Readable & { closed?: boolean; _readableState?: { emitClose?: boolean } }) | null;
    if (source === null || source.closed || source._readableState?.emitClose === false) callback();
    else source.once('close', () => callback());
  }

  private stop(): void {
    this.stopped = true;
    this.push(null);
    // run()/pipe() listen and stop the source themselves; else we do.
    const alone = this.listenerCount('stop') === 0;
    this.emit('stop');
    if (alone) this.release();
  }

  /** Plain stream.pipeline: ends and destroys the source (not a premature close: it has ended), then ends our input. */
  private release(): void {
    const source = this.upstream;
    if (source === null || this.writableEnded) return;
    this.released = source;
    if (source instanceof Duplex) {
      // A Duplex fed by the stages before it (a map, csv.parse after a file stream) is read
      // to its end and dropped: ending it here would cut off the streams still writing into
      // it (issue 12 §4). A source that feeds itself (csv.read) is ended at once.
      if (!isSelfFed(source)) return;
      source.unpipe(this);
      endNow(source);
    } else {
      source.unpipe(this);
      if (!source.destroyed && !source.readableEnded) {
        source.push(null);
        // Destroyed once its end is emitted (the rows it had buffered are dropped): an end,
        // not a premature close, for stream.pipeline.
        source.once('end', () => source.destroy());
        source.resume();
      }
    }
    this.end();
  }
}

/** A Duplex that reads its own input (csv.read opens and pipes its file), marked `selfFed`. */
const isSelfFed = (stream: Duplex): boolean => (stream as Duplex & { selfFed?: unknown }).selfFed === true;

/**
 * Ends a self-fed Duplex source now: its readable side is ended with its buffer emptied
 * (the last read schedules its 'end', which stream.pipeline waits for), then it is
 * destroyed, closing its input — before its 'close', so the pipeline sees an end, not a
 * premature close. A row its parser pushes after this (we may be inside its transform) is
 * dropped by the destroyed stream.
 */
function endNow(source: Duplex): void {
  if (source.destroyed) return;
  if (!source.readableEnded) {
    source.push(null);
    while (source.read() !== null);
  }
  source.destroy();
}

/** @example take(1000) // the first 1,000 rows */
export function take<T>(count: number, options: TakeOptions = {}): Stage<T, T> {
  const highWaterMark = named('take()', () => {
    checkInteger('count', count, 0);
    return checkHighWaterMark('highWaterMark', checkOptions('options', options, TAKE_OPTIONS).highWaterMark);
  });
  return new TakeStage<T>(count, highWaterMark);
}
