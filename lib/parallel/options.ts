/**
 * What a user can ask of `parallel.map`, and the check that turns it into settings once,
 * before any thread exists.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { resolveRowOptions, type OnError } from '../core/row-operation.js';
import { checkInteger, fail, optionNames } from '../core/validate.js';

export interface ParallelMapOptions<In, Out> {
  /**
   * The name of the module's export that maps a row: `(row, { index, signal }) => out`,
   * sync or async.
   * @default 'default'
   */
  export?: string;
  /**
   * Worker threads. Each runs one batch at a time; at most `threads × 2` batches are in
   * flight, so backpressure reaches the source.
   * @default os.availableParallelism() - 1, at least 1
   */
  threads?: number;
  /**
   * Roughly how many bytes of rows (UTF-16 length of their strings, a Buffer's bytes, 8 a value otherwise;
   * for a row csv.read made from a plain line and unchanged, that line's length) a batch holds; a row larger
   * than this travels alone. A slow function's batches hold fewer rows: about 10 ms of its measured work each
   * (fewer rows in flight: less memory and garbage collection on every thread).
   * The default keeps a batch's lines, joined into one string, below V8's large-object size
   * (128 KiB): a larger string gets pages of its own, fresh from the kernel, on both threads, for every batch.
   * @default 98304 (about 450 rows of the 43-column parking file)
   */
  batchBytes?: number;
  /**
   * `false`: a batch's rows leave as soon as it is done, before batches sent earlier.
   * @default true
   */
  ordered?: boolean;
  /**
   * `true`: the main thread also runs batches itself — one whenever every worker already
   * has two, where it would otherwise wait — so `threads` workers and the main thread share
   * the cores (e.g. `threads: 1` on 2 cores). The main thread loads the module too, and its
   * batches have none of a worker's protection: the function gets the row itself (as
   * `map`'s does), a `process.exit()` ends the process, `timeout`, `retries` and
   * `resourceLimits` do not apply, and while a sync function runs a batch (~10 ms) nothing
   * else runs on the main thread.
   * @default false
   */
  mainThread?: boolean;
  /**
   * What to do when the function throws (or returns null/undefined) on a row, as for `map`.
   * @default 'fail'
   */
  onError?: OnError<In, Out>;
  /**
   * How many times a batch whose worker died (exit, out of memory, past `timeout`) is run again, each on a
   * fresh worker. Its rows leave once, from the run that finished.
   * @default 0
   */
  retries?: number;
  /**
   * Milliseconds a worker may spend on one batch, counted from when it starts the batch
   * (not while the batch waits behind another, nor while the worker loads the module): past it the worker is terminated and the
   * batch fails as if the worker had died — run again on a fresh worker while `retries`
   * allow, else a `WorkerError` naming the batch. Set it well above a batch's longest run.
   * @default no limit
   */
  timeout?: number;
  /** Passed to each worker thread (e.g. `{ maxOldGenerationSizeMb: 256 }`). */
  resourceLimits?: ResourceLimits;
  /**
   * Object-mode high-water mark of both sides of the stream.
   * @default 16
   */
  highWaterMark?: number;
}

/**
 * 96 KiB: a batch of CSV lines crosses as one string of about this many characters, which
 * stays below V8's large-object size (128 KiB). Measured on 43-column rows (round trip, 2
 * threads, 11 interleaved runs in one process): 262,144 cost 5.3–5.4 µs CPU a row in all,
 * 98,304 and 122,880 4.7–4.8 (the workers' share 3.4 → 2.9), and 30% fewer page faults.
 */
const DEFAULT_BATCH_BYTES = 98_304;

/** The option names parallel.map() accepts (an unknown one, `concurrency` too, is a TypeError). */
const PARALLEL_MAP_OPTIONS = optionNames<ParallelMapOptions<unknown, unknown>>('parallel.map()', {
  export: true, threads: true, batchBytes: true, ordered: true, mainThread: true, onError: true, retries: true, resourceLimits: true, highWaterMark: true,
  timeout: true,
});

export interface ParallelSettings<In, Out> {
  readonly module: string;
  readonly exportName: string;
  readonly threads: number;
  readonly batchBytes: number;
  readonly ordered: boolean;
  /** Whether the main thread runs batches too (parallel.map only). */
  readonly mainThread: boolean;
  readonly onError: OnError<In, Out>;
  readonly retries: number;
  /** Milliseconds a batch may run on its worker (Infinity: no limit). */
  readonly timeout: number;
  readonly resourceLimits?: ResourceLimits;
  readonly highWaterMark?: number;
}

/** The module as a URL string: a URL, a file URL string, or a path (relative to the working directory). */
function moduleUrl(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') fail('module', 'a path or a URL', module);
  if (/^(file|data):/.test(module)) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/** Checks `options` of `parallel.map` (or, with its own names, of `parallel.csv`). */
export function resolveParallelOptions<In, Out>(module: unknown, options: unknown, factory = 'parallel.map', names = PARALLEL_MAP_OPTIONS): ParallelSettings<In, Out> {
  const url = moduleUrl(module);
  const { onError, highWaterMark, ordered } = resolveRowOptions<In, Out>(factory, options, names);
  const o = options === undefined ? {} : (options as ParallelMapOptions<In, Out>);
  if (o.export !== undefined && (typeof o.export !== 'string' || o.export === '')) fail('export', 'the name of an export', o.export);
  if (o.mainThread !== undefined && typeof o.mainThread !== 'boolean') fail('mainThread', 'a boolean', o.mainThread);
  if (o.resourceLimits !== undefined && (typeof o.resourceLimits !== 'object' || o.resourceLimits === null)) {
    fail('resourceLimits', 'an object', o.resourceLimits);
  }
  return {
    module: url,
    exportName: o.export ?? 'default',
    threads: o.threads === undefined ? Math.max(1, availableParallelism() - 1) : checkInteger('threads', o.threads, 1),
    batchBytes: o.batchBytes === undefined ? DEFAULT_BATCH_BYTES : checkInteger('batchBytes', o.batchBytes, 1),
    ordered,
    mainThread: o.mainThread ?? false,
    onError,
    retries: o.retries === undefined ? 0 : checkInteger('retries', o.retries, 0),
    timeout: o.timeout === undefined ? Infinity : checkInteger('timeout', o.timeout, 1),
    ...(o.resourceLimits ? { resourceLimits: { ...o.resourceLimits } } : {}),
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
  };
}
