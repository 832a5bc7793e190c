/**
 * Sources, sinks and counters for the operation tests. Synchronisation is by events,
 * counters and promises the test settles itself; where a test must show that *nothing
 * more* happens (a stalled pipeline stays put), it lets the event loop turn with
 * `quiesce()` — turns of `setImmediate`, never wall-clock time. None of these helpers
 * start timers or I/O, so once a turn passes with no change, no change is pending.
 */
import { expect } from 'chai';
import { Readable, Transform, Writable, pipeline, type Duplex, type Stream, type TransformCallback } from 'node:stream';
import { RowError, map, run, type RowContext, type Summary } from '../../lib/index.js';

// ---------------------------------------------------------------------------------------
// Promises and the event loop

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise whose outcome the test decides. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One full turn of the event loop: pending nextTicks, microtasks and immediates run. */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Lets the event loop turn until `probe()` has not changed for `stableTurns` turns in a
 * row, and returns its value. Fails if it keeps changing for `maxTurns` turns (a run-away).
 */
export async function quiesce<T>(probe: () => T, stableTurns = 5, maxTurns = 2000): Promise<T> {
  let last = probe();
  let stable = 0;
  for (let i = 0; i < maxTurns; i++) {
    await turn();
    const now = probe();
    if (Object.is(now, last)) {
      if (++stable >= stableTurns) return now;
    } else {
      last = now;
      stable = 0;
    }
  }
  throw new Error(`still changing after ${maxTurns} turns of the event loop (last value ${String(last)})`);
}

/** How long `until` waits at least before it gives up (a loaded machine's disk and timers are slow). */
const UNTIL_MIN_MS = 5_000;

/**
 * Resolves once `predicate()` holds, checked after each turn of the event loop. Gives up
 * after `maxTurns` turns, but never before `UNTIL_MIN_MS` have passed: what is awaited may be
 * I/O or a timer, which a loaded machine delivers after many more turns (turns are cheap).
 */
export async function until(predicate: () => boolean, what: string, maxTurns = 2000): Promise<void> {
  const start = Date.now();
  for (let i = 0; i < maxTurns || Date.now() - start < UNTIL_MIN_MS; i++) {
    if (predicate()) return;
    await turn();
  }
  throw new Error(`gave up waiting for ${what} after ${maxTurns} turns of the event loop and ${UNTIL_MIN_MS} ms`);
}

// ---------------------------------------------------------------------------------------
// Sources

export interface CountingSourceOptions<T> {
  /** The source's own high-water mark (object mode). @default 16 */
  highWaterMark?: number;
  /** Builds row `i` (1-based). @default (i) => i */
  row?: (i: number) => T;
  /** Rows pushed per `_read` call (a source that reads in batches). @default 1 */
  burst?: number;
}

/**
 * A Readable of `total` rows that counts how many the pipeline has pulled from it
 * (`pulled`): the number that a backpressure bound is about.
 */
export class CountingSource<T = number> extends Readable {
  pulled = 0;
  private readonly make: (i: number) => T;
  private readonly burst: number;

  constructor(readonly total: number, options: CountingSourceOptions<T> = {}) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
    this.make = options.row ?? ((i) => i as T);
    this.burst = options.burst ?? 1;
  }

  override _read(): void {
    for (let i = 0; i < this.burst; i++) {
      if (this.pulled >= this.total) {
        this.push(null);
        return;
      }
      this.pulled++;
      this.push(this.make(this.pulled));
    }
  }
}

export interface TrackedGenerator<T> {
  /** A generator function, as `run()`/`pipe()` accept it as a source. */
  readonly source: () => AsyncGenerator<T>;
  /** Rows yielded so far; whether the generator's `finally` block ran. */
  readonly state: { yielded: number; finallyRan: boolean };
}

/** Rows an endless generator may give before it decides that nothing holds it back. */
const RUNAWAY = 10_000;

/**
 * An async generator of `total` rows (endless by default) that records its `finally`.
 * An endless one fails after 10,000 rows, so a pipeline that ignores backpressure fails
 * the test instead of filling memory.
 */
export function trackedGenerator<T = number>(row: (i: number) => T = (i) => i as T, total = Infinity): TrackedGenerator<T> {
  const state = { yielded: 0, finallyRan: false };
  async function* source(): AsyncGenerator<T> {
    try {
      for (let i = 1; i <= total; i++) {
        if (total === Infinity && i > RUNAWAY) throw new Error(`the generator was read ${RUNAWAY} rows ahead: nothing held it back`);
        state.yielded++;
        yield row(i);
      }
    } finally {
      state.finallyRan = true;
    }
  }
  return { source, state };
}

export const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------
// Sinks

/** A Writable that keeps every row it receives. */
export class CollectingSink<T = unknown> extends Writable {
  readonly rows: T[] = [];
  constructor(highWaterMark = 16) {
    super({ objectMode: true, highWaterMark });
  }
  override _write(row: T, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.rows.push(row);
    callback();
  }
}

export const collect = <T = unknown>(): CollectingSink<T> => new CollectingSink<T>();

/**
 * A consumer that takes rows but acknowledges none until told: stalled as it is, slow
 * when the test calls `release()` step by step. With high-water mark `k` it holds exactly
 * `k` rows before its `write()` says stop.
 */
export class StalledSink<T = unknown> extends Writable {
  readonly received: T[] = [];
  acknowledged = 0;
  private readonly waiting: ((error?: Error | null) => void)[] = [];

  constructor(highWaterMark = 1) {
    super({ objectMode: true, highWaterMark });
  }

  override _write(row: T, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(row);
    this.waiting.push(callback);
    this.emit('received', row);
  }

  /** Acknowledges the row being written (at most one is ever waiting). */
  release(): boolean {
    const callback = this.waiting.shift();
    if (!callback) return false;
    this.acknowledged++;
    callback();
    return true;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.waiting.length = 0;
    callback(error);
  }
}

// ---------------------------------------------------------------------------------------
// Async user functions the test controls

interface Call<Row, R, Context> {
  readonly row: Row;
  readonly context: Context;
  readonly result: Deferred<R>;
}

/**
 * An async user function whose calls stay pending until the test settles them; counts the
 * calls in flight (called, not yet settled) and the most ever in flight at once.
 */
export class ControlledCalls<Row = unknown, R = unknown, Context = RowContext> {
  readonly calls: Call<Row, R, Context>[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  readonly fn = (row: Row, context: Context): Promise<R> => {
    const result = deferred<R>();
    this.calls.push({ row, context, result });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const settled = () => {
      this.inFlight--;
    };
    result.promise.then(settled, settled);
    for (const waiter of this.waiters.filter((w) => this.calls.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return result.promise;
  };

  /** Resolves once the function has been called `count` times in all. */
  called(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  resolve(i: number, value: R): void {
    this.calls[i].result.resolve(value);
  }

  reject(i: number, error: unknown): void {
    this.calls[i].result.reject(error);
  }
}

// ---------------------------------------------------------------------------------------
// Backpressure measurement

export interface HeldOptions<T> {
  /** High-water mark of the counting source. */
  sourceHighWaterMark: number;
  /** High-water mark of the stalled sink (how many rows it takes before it says stop). */
  sinkHighWaterMark: number;
  /** Rows the source could give: far more than any bound, so a leak shows. @default 10_000 */
  total?: number;
  row?: (i: number) => T;
}

export interface Held {
  /** Rows pulled from the source once the pipeline has stopped moving. */
  pulled: number;
  /** Rows the stalled sink holds: the one in its `_write` and those buffered behind it. */
  inSink: number;
}

/**
 * Joins counting source → stage → stalled sink with `stream.pipeline`, lets it run until
 * nothing moves, and reports how many rows were pulled. Everything is destroyed (and
 * awaited) before it returns.
 */
export async function measureHeld<T>(stage: Duplex, options: HeldOptions<T>): Promise<Held> {
  const source = new CountingSource<T>(options.total ?? 10_000, { highWaterMark: options.sourceHighWaterMark, row: options.row });
  const sink = new StalledSink(options.sinkHighWaterMark);
  pipeline(source, stage, sink, () => {});
  const pulled = await quiesce(() => source.pulled);
  const held = { pulled, inSink: sink.writableLength };
  await destroyAll(source, stage, sink);
  return held;
}

/**
 * The deliberately broken control for backpressure tests: it acknowledges every row at
 * once and emits it a turn later, so nothing ever holds the source back.
 */
export function ignoresBackpressure(highWaterMark = 16): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark,
    transform(this: Transform, row: unknown, _encoding: BufferEncoding, callback: TransformCallback) {
      setImmediate(() => this.push(row));
      callback();
    },
  });
}

// ---------------------------------------------------------------------------------------
// Stream lifecycle

/** Destroys the streams and waits for each one's 'close'. */
export async function destroyAll(...streams: Stream[]): Promise<void> {
  await Promise.all(
    streams.map((stream) => {
      const s = stream as Duplex;
      if (s.closed) return undefined;
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.destroy();
      return closed;
    }),
  );
}

/** Resolves on the stream's 'close' (at once if it has closed already). */
export function closed(stream: Stream): Promise<void> {
  if ((stream as Duplex).closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Counts the given events on a stream from now on. */
export function countEvents(stream: Stream, names: readonly string[] = ['close', 'end', 'finish', 'error']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) {
    counts[name] = 0;
    stream.on(name, () => {
      counts[name]++;
    });
  }
  return counts;
}

/** Runs a bare `stream.pipeline` and resolves with its error (or null). */
export function pipelineResult(...streams: Stream[]): Promise<Error | null> {
  return new Promise((resolve) => {
    (pipeline as unknown as (...args: unknown[]) => void)(...streams, (error: Error | null | undefined) => resolve(error ?? null));
  });
}

/**
 * For a describe block whose failures must all arrive as rejections of `run()`: fails each
 * test after which (a turn later) a promise rejection went unhandled.
 */
export function expectNoUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  before(() => process.on('unhandledRejection', record));
  after(() => process.off('unhandledRejection', record));
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled.splice(0)).to.deep.equal([]);
  });
}

/**
 * `run(source, stage, check, sink)` where `check` (a map, sync or async) throws on the
 * `failOn`-th row it receives: asserts that run fails with check's RowError for that row,
 * the thrown error as its cause, and that the stage, check and the sink all closed.
 * Returns the rows the sink received before the failure.
 */
export async function failsDownstream(source: unknown, stage: Duplex, failOn: number, kind: 'sync' | 'async' = 'sync'): Promise<unknown[]> {
  const original = new Error('downstream failure');
  let seen = 0;
  const fail = (row: unknown) => {
    if (++seen === failOn) throw original;
    return row;
  };
  const check = kind === 'sync' ? map(function check(row: unknown) { return fail(row); }) : map(async function check(row: unknown) { return fail(row); });
  const sink = collect();
  const error = await rejectionOf(run(source as never, stage as never, check, sink));
  expect(error).to.be.instanceOf(RowError);
  expect(error.message).to.equal(`map(check) failed on row ${failOn}: downstream failure`);
  expect(error.cause).to.equal(original);
  for (const s of [stage, check, sink]) expect(s.closed, 'every stage closed').to.equal(true);
  return sink.rows;
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** Calls a function that must throw, and returns what it threw. */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

/** Each call throws a TypeError with exactly its documented message. */
export function expectTypeErrors(cases: readonly (readonly [() => unknown, string])[]): void {
  for (const [call, message] of cases) {
    const error = thrownBy(call);
    expect(error, message).to.be.instanceOf(TypeError);
    expect(error.message).to.equal(message);
  }
}

/**
 * A stage's highWaterMark: 16 rows on both sides by default (`make()`), and `make(options)`
 * takes it from a frozen options object that it leaves as it was.
 */
export function expectHighWaterMarks(make: (options?: { highWaterMark: number }) => Duplex, highWaterMark: number): void {
  const sides = (stage: Duplex) => [stage.readableHighWaterMark, stage.writableHighWaterMark];
  const byDefault = make();
  expect(sides(byDefault)).to.deep.equal([16, 16]);
  byDefault.destroy();
  const options = Object.freeze({ highWaterMark });
  const given = make(options);
  expect(sides(given)).to.deep.equal([highWaterMark, highWaterMark]);
  expect(options).to.deep.equal({ highWaterMark });
  given.destroy();
}

// ---------------------------------------------------------------------------------------
// Summaries

/** Every row read is accounted for: in = out + filtered + rejected (1:1 pipelines). */
export function expectAccounted(summary: Summary): void {
  expect(summary.read, `read (${summary.read}) = written + filtered + rejected`).to.equal(
    summary.written + summary.filtered + summary.rejected,
  );
}

/** The summary without its wall time, for exact comparison. */
export function counts(summary: Summary): Omit<Summary, 'ms'> {
  const { ms, ...rest } = summary;
  expect(ms).to.be.a('number');
  return rest;
}

/**
 * Destroys `stage` while rows are flowing through it (source → stage → stalled sink, the
 * sink holding its first row) and reports the stage's events and the pipeline's error.
 */
export async function destroyMidStream<T>(stage: Duplex, row: (i: number) => T = (i) => i as T): Promise<{ events: Record<string, number>; error: Error | null; inSink: number }> {
  const events = countEvents(stage);
  const source = new CountingSource(1_000, { row });
  const sink = new StalledSink();
  const result = pipelineResult(source, stage, sink);
  await until(() => sink.received.length === 1, 'the first row at the sink');
  stage.destroy();
  await closed(stage);
  const error = await result;
  await Promise.all([closed(source), closed(sink)]);
  // Let anything that would still fire (a late 'end' or 'finish') do so before counting.
  await quiesce(() => events.close + events.end + events.finish + events.error);
  return { events, error, inSink: sink.received.length };
}

/** `run()` for 1:1 pipelines: also checks that every row read is accounted for. */
// Typed as `run` itself (all its overloads, so stage types are checked at the call); the
// body forwards its arguments as they came, which no single overload can describe.
export const runAccounted = (async (...args: unknown[]): Promise<Summary> => {
  const summary = await (run as (...a: unknown[]) => Promise<Summary>)(...args);
  expectAccounted(summary);
  return summary;
}) as typeof run;
