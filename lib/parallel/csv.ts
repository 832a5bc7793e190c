import { basename } from 'node:path';
import { named } from '../core/validate.js';
import { resolveParallelCsvOptions, type ParallelCsvOptions } from './csv-options.js';
import { ParallelCsvStage } from './parallel-csv.js';

/**
 * Reads a CSV file on worker threads and maps its rows there: csv.split cuts the file into
 * byte ranges of about `rangeBytes` at row starts, each worker reads and parses its ranges
 * (csv.read's options, under `csv`) and runs the export `options.export` of `module` on
 * every row, `fn(row, { index, signal })` with `index` the row's file line; only the
 * results come back, in file order. The same rows as `csv.read(file, options.csv)` followed
 * by `parallel.map(module)`, without the main thread parsing or copying a row. Errors as
 * `parallel.map`'s: a throw is a `RowError` naming the row and its file line (or follows
 * `onError`), a worker that dies a `WorkerError` naming the range (or, with `retries`, the
 * range runs again); invalid CSV fails with the `CsvError` csv.read would give, after the
 * rows before it. Every worker has exited when the stage ends, fails or is destroyed.
 *
 * @param file The CSV file's path.
 * @param module Where the row function lives (a path, a file URL string or a `URL`).
 * @param options `csv`, `rangeBytes`, `export`, `threads`, `onError`, `retries`, `timeout`, `resourceLimits`, `highWaterMark`.
 * @example
 * await run(parallel.csv('parking.csv', new URL('./normalise.js', import.meta.url), { threads: 2 }), csv.write('keyed.csv'));
 * parallel.csv('people.csv', 'lib/people.js', { csv: { rows: 'objects' }, export: 'clean' })
 */
export function parallelCsv<Out = unknown>(file: string, module: string | URL, options: ParallelCsvOptions<Out> = {}): ParallelCsvStage<Out> {
  const settings = named('parallel.csv()', () => resolveParallelCsvOptions<Out>(file, module, options));
  const name = basename(new URL(settings.module).pathname);
  return new ParallelCsvStage<Out>(`parallel.csv(${settings.exportName === 'default' ? name : `${name}#${settings.exportName}`})`, settings);
}
