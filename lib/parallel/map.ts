import { basename } from 'node:path';
import { ParallelMapStage } from './parallel-map.js';
import { named } from '../core/validate.js';
import { resolveParallelOptions, type ParallelMapOptions } from './options.js';

/**
 * Maps rows on worker threads: the function is the export `options.export` (default
 * `default`) of `module` — a path, a file URL string or a `URL`; a closure cannot cross
 * threads — called as `fn(row, { index, signal })`, sync or async. Rows travel in batches of
 * about `batchBytes` (a slow function's: about 10 ms of its work); at most `threads × 2` batches are in flight. Output order is input
 * order unless `ordered: false`. A throw fails the stage with a `RowError` naming the row
 * (or follows `onError`, as for `map`), the worker's stack as `cause`; a worker that dies
 * fails it with a `WorkerError` naming the batch, unless `retries` lets the batch run again
 * on a fresh worker. Every worker has exited when the stage ends, fails or is destroyed.
 * Worth it only for functions that cost more per row than the transfer (see `stage.stats.advice`).
 *
 * @param module Where the row function lives (relative paths are taken from the working directory).
 * @param options `export`, `threads`, `batchBytes`, `ordered`, `mainThread`, `onError`, `retries`, `timeout`, `resourceLimits`, `highWaterMark`.
 * @example
 * parallel.map<string[], string[]>(new URL('./normalise.js', import.meta.url), { threads: 2 })
 * parallel.map('lib/geo.js', { export: 'toTile', ordered: false, retries: 1 })
 */
export function parallelMap<In, Out>(module: string | URL, options: ParallelMapOptions<In, Out> = {}): ParallelMapStage<In, Out> {
  const settings = named('parallel.map()', () => resolveParallelOptions<In, Out>(module, options));
  const file = basename(new URL(settings.module).pathname);
  const name = settings.exportName === 'default' ? file : `${file}#${settings.exportName}`;
  return new ParallelMapStage<In, Out>(`parallel.map(${name})`, settings);
}
