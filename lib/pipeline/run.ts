import type { Readable, Stream, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError } from '../core/errors.js';
import { countsWritten, isStage, writtenRows } from '../core/stage.js';
import { checkInteger, checkOptions, checkSignal, fail, named, optionNames } from '../core/validate.js';
import { destinationClosed } from './destination.js';
import { ProgressReporter, type Progress } from './progress.js';
import { RejectChannel, type RejectTarget } from './reject-channel.js';
import { allClosed, buildChain, keepsSource, type Chain, type SourceLike, type StageLike } from './stages.js';
import type { From, Through } from './typed.js';
import { countData, CountingSink } from './written-counter.js';

export interface RunOptions {
  /** Aborts the whole pipeline: every stage is destroyed and `run` rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Where rejected rows go (see `onError: 'reject'`): a Writable receiving one
   * `RejectRecord` per row (e.g. `csv.write('rejected.csv')`), or a function receiving the
   * full `Reject`. Without it, the first rejected row fails the pipeline.
   */
  rejects?: RejectTarget;
  /**
   * How many rows may be rejected before the pipeline fails with a `RejectLimitError`.
   * @default Infinity
   */
  maxRejects?: number;
  /**
   * Leave the source to the caller: when the pipeline fails or stops early, sluice stops
   * reading the source and drains the rest of it, but does not destroy it. For an HTTP
   * request body this keeps the socket open, so the handler can still answer (`400` with
   * the error's message).
   * @default true for an `http.IncomingMessage`, false otherwise
   */
  keepSource?: boolean;
  /**
   * Called with a {@link Progress} snapshot (rows read, written, rejected; bytes read of the
   * file's size for `csv.read(path)`, or the planner's row estimate for `postgres.query`;
   * rows/s, elapsed, ETA; how long no row has moved) every `progressMs`, also while the
   * pipeline is stalled, and once more with `done: true` when the pipeline has settled.
   * @example run(csv.read('big.csv'), sink, { progress: (p) => console.error(`${p.read} rows`) })
   */
  progress?: (progress: Progress) => void;
  /**
   * The time between two progress calls, in milliseconds (a timer that never keeps the
   * process alive; 0 means as often as the event loop allows).
   * @default 1000
   */
  progressMs?: number;
}

/** The option names run() and pipe() accept (an unknown one is a TypeError). */
const RUN_OPTIONS = optionNames<RunOptions>('run()', { signal: true, rejects: true, maxRejects: true, keepSource: true, progress: true, progressMs: true });

/** What happened, as `run()` resolves. For 1:1 pipelines, `read = written + filtered + rejected`. */
export interface Summary {
  /** Rows that left the source. */
  read: number;
  /** Rows that reached the sink. */
  written: number;
  /** Rows dropped on purpose by sluice stages (filter, skip, take). */
  filtered: number;
  /** Rows sent to the reject channel. */
  rejected: number;
  /** True when a stage such as `take(n)` stopped the source before its end was seen (a source of exactly n rows may count: the stop does not wait to learn whether more would come). */
  stoppedEarly: boolean;
  /** Wall time in milliseconds. */
  ms: number;
}


export interface Wired {
  chain: Chain;
  channel: RejectChannel;
  signal?: AbortSignal;
  progress?: { report: (progress: Progress) => void; everyMs: number };
}

/**
 * Splits trailing options off and wires stages, rejects and early stop together. When the
 * arguments are invalid (a TypeError), the streams passed in are destroyed before the
 * error is thrown: they will never run, and a `csv.read` must not keep its file open.
 */
export function wire(args: readonly unknown[], caller: string): Wired {
  try {
    return named(`${caller}()`, () => wireChecked(args, caller));
  } catch (error) {
    const last = args[args.length - 1] as { rejects?: unknown; keepSource?: unknown } | undefined;
    const keep = keepsSource(args[0], typeof last?.keepSource === 'boolean' ? last.keepSource : undefined);
    for (const value of [...(keep ? args.slice(1) : args), last?.rejects]) {
      const stream = value as Stream & { destroy?: () => void };
      if (stream && typeof stream.on === 'function' && typeof stream.destroy === 'function' && stream !== process.stdout && stream !== process.stderr) {
        stream.destroy();
      }
    }
    throw error;
  }
}

function wireChecked(args: readonly unknown[], caller: string): Wired {
  const last = args[args.length - 1];
  const hasOptions =
    args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last) &&
    typeof (last as Stream).on !== 'function' && !(Symbol.iterator in last) && !(Symbol.asyncIterator in last);
  const options = hasOptions ? (checkOptions('options', last, { ...RUN_OPTIONS, factory: `${caller}()` }) as RunOptions) : {};
  const items = hasOptions ? args.slice(0, -1) : args;
  const signal = checkSignal('signal', options.signal);
  const maxRejects = options.maxRejects === undefined ? Infinity : checkInteger('maxRejects', options.maxRejects, 0, true);
  const target = options.rejects;
  if (target !== undefined && typeof target !== 'function' && typeof (target as { write?: unknown }).write !== 'function') {
    fail('rejects', 'a Writable or a function', target);
  }
  if (options.keepSource !== undefined && typeof options.keepSource !== 'boolean') fail('keepSource', 'a boolean', options.keepSource);
  if (options.progress !== undefined && typeof options.progress !== 'function') fail('progress', 'a function', options.progress);
  const everyMs = options.progressMs === undefined ? 1000 : checkInteger('progressMs', options.progressMs, 0);
  if (options.progress !== undefined && caller !== 'run') fail('progress', `not set for ${caller}() (run() reports progress)`, options.progress);
  const chain = buildChain(items, options.keepSource);
  const channel = new RejectChannel(target, maxRejects);
  chain.stages.forEach((stage, i) => {
    if (channel.attached) stage.on('reject', channel.receive);
    else if (maxRejects !== Infinity) fail('rejects', 'set when maxRejects is', target);
    const stop = () => {
      chain.gate.stop();
      for (const before of chain.stages.slice(0, i)) before.pastLimit = true;
    };
    stage.on('stop', stop);
    if ((stage as { stopped?: boolean }).stopped) stop();
  });
  return { chain, channel, signal, ...(options.progress ? { progress: { report: options.progress, everyMs } } : {}) };
}

function summarize(chain: Chain, channel: RejectChannel, written: number, started: number): Summary {
  // Rows the source itself rejected (e.g. ragged CSV lines) were read too.
  const source = chain.all[0];
  const rejectedAtSource = isStage(source) ? source.stats.rejected : 0;
  // …and so were the rows it dropped for a `where` after it (see lib/pipeline/fuse-where.ts).
  const filteredAtSource = isStage(source) ? source.stats.filtered : 0;
  // A byte source (an HTTP body, a socket) yields chunks, not rows: its rows are the ones
  // the first stage parsed out of them (`run(req, csv.parse(), …)`).
  const parser = chain.streams[1];
  const parsed = !(source as Readable).readableObjectMode && isStage(parser) && !parser.writableObjectMode;
  return {
    read: parsed ? parser.stats.out + parser.stats.rejected : chain.gate.read_ + rejectedAtSource + filteredAtSource,
    written,
    filtered: chain.stages.reduce((sum, stage) => sum + stage.stats.filtered, 0),
    rejected: channel.count,
    stoppedEarly: chain.gate.stopped,
    ms: Math.round(performance.now() - started),
  };
}

/**
 * Runs a pipeline to its end: `run(source, ...stages, sink, options?)`. Stages are joined
 * with `stream.pipeline`; the first real error wins, every stage is destroyed, and `run`
 * settles only once every stage has closed and the rejects sink is flushed.
 *
 * @returns a {@link Summary} of rows read, written, filtered and rejected.
 * @example
 * const summary = await run(
 *   csv.read('parking.csv'),
 *   filter(([, , state]) => state === 'NJ'),
 *   csv.write('nj.csv', { headers: ['summons', 'plate', 'state'] }),
 * );
 */
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any, S12 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, s12: Through<S11, S12>, ...rest: (StageLike | RunOptions)[]): Promise<Summary>;
// Typed overloads, one per stage count (most stages first: TypeScript types the stages'
// callbacks, e.g. `filter((row) => …)`, against the first overload of the right arity it
// tries, and a trailing options object is the rarer case). Each stage must accept what the
// one before gives (`Through<In, Out>`); untyped streams fit anywhere (their output is
// whatever the next stage accepts). Past 12 stages the rest are accepted unchecked.
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any, S12 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, s12: Through<S11, S12>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any, S11 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, s11: Through<S10, S11>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any, S10 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, s10: Through<S9, S10>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any, S9 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, s9: Through<S8, S9>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any, S8 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, s8: Through<S7, S8>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any, S7 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, s7: Through<S6, S7>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any, S6 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, s6: Through<S5, S6>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any, S5 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, s5: Through<S4, S5>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any, S4 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, s4: Through<S3, S4>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any, S3 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, s3: Through<S2, S3>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any, S2 = any>(source: From<A>, s1: Through<A, S1>, s2: Through<S1, S2>, options?: RunOptions): Promise<Summary>;
export function run<A = any, S1 = any>(source: From<A>, s1: Through<A, S1>, options?: RunOptions): Promise<Summary>;
export function run<A = any>(source: From<A>, options?: RunOptions): Promise<Summary>;
export async function run(...args: unknown[]): Promise<Summary> {
  const started = performance.now();
  const { chain, channel, signal, progress } = wire(args, 'run');
  const streams = [...chain.streams];
  const last = streams[streams.length - 1];
  // Count rows reaching the sink, unless it counts them; a pipeline that ends in a
  // Transform is drained (and counted) here.
  const selfCounting = countsWritten(last);
  const drain = !selfCounting && CountingSink.needed(last) ? new CountingSink() : null;
  if (drain) streams.push(drain);
  let failure: unknown = null;
  // Already aborted: fail before a single row flows (stream.pipeline would only notice later).
  if (signal?.aborted) chain.gate.destroy(new AbortError(signal.reason));
  // Whether the sink closed on its own while the rest still ran (a client gone mid-export);
  // listened to before stream.pipeline's own listeners, which tear the rest down at once.
  const sink = last as Writable;
  let sinkClosedFirst = sink.destroyed; // already gone: the same "destination closed" (TESTPLAN B16)
  if (!sink.destroyed) sink.once('close', () => (sinkClosedFirst = !sink.writableFinished && !chain.all.slice(0, -1).some((s) => (s as Readable).destroyed)));
  const done = pipeline(streams as unknown as NodeJS.ReadableStream[], signal ? { signal } : {});
  const counter = selfCounting ? null : drain ?? countData(streams[streams.length - 2] as Readable);
  // Rows formatted into text before a byte sink (csv.format → res) are counted by the
  // formatter: the sink receives chunks, not rows.
  const formatter = chain.streams[chain.streams.length - (drain ? 1 : 2)];
  const written = (): number => {
    if (counter === null) return (last as unknown as { [writtenRows](): number })[writtenRows]();
    return isStage(formatter) && !formatter.readableObjectMode ? formatter.stats.out : counter.count;
  };
  const reporter = progress
    ? new ProgressReporter(progress.report, progress.everyMs, { read: () => summarize(chain, channel, 0, started).read, written, rejected: () => channel.count }, chain.all[0], started)
    : null;
  if (reporter) {
    reporter.onError = (error) => chain.gate.destroy(error as Error);
    // A source that can estimate its rows (postgres.query: the planner) does so only when asked.
    const source = chain.all[0] as { estimateRows?: () => void };
    if (isStage(source) && typeof source.estimateRows === 'function') source.estimateRows();
    reporter.start();
  }
  try {
    await done;
  } catch (error) {
    failure = error;
  }
  // stream.pipeline fails with Node's own AbortError; report ours (as pipe() does), so
  // `instanceof AbortError` holds; `cause` is the signal's reason either way.
  if (signal?.aborted && failure instanceof Error && failure.name === 'AbortError' && !(failure instanceof AbortError)) {
    failure = new AbortError(signal.reason);
  }
  // The sink closed before it finished (a client that went away mid-download): say so,
  // rather than Node's bare ERR_STREAM_PREMATURE_CLOSE.
  if (sinkClosedFirst && (failure as NodeJS.ErrnoException | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    failure = destinationClosed(failure);
  }
  await allClosed([...chain.all, ...(drain ? [drain] : [])]);
  try {
    await channel.close(failure !== null);
  } catch (error) {
    failure ??= error;
  }
  reporter?.end();
  if (failure !== null) throw failure;
  return summarize(chain, channel, written(), started);
}
