/**
 * What a user can ask of `parallel.csv`: `parallel.map`'s options for the threads and the
 * function (less `batchBytes`, `ordered` and `mainThread`: a range is the batch, its rows leave
 * in file order, and the workers parse), `rangeBytes`, and csv.read's options for the parsing under `csv`. Checked
 * once, before any thread exists or the file is opened.
 */
import { checkInteger, fail, optionNames } from '../core/validate.js';
import { csv, type CsvSplitOptions, type CsvSplitSource } from '../csv/index.js';
import { resolveParallelOptions, type ParallelMapOptions, type ParallelSettings } from './options.js';

export interface ParallelCsvOptions<Out> extends Omit<ParallelMapOptions<unknown, Out>, 'batchBytes' | 'ordered' | 'mainThread'> {
  /**
   * How the workers parse the file: csv.read's options (`rows`, `header`, `delimiter`, …;
   * not `ragged: 'reject'`), and csv.split's `quotedLineBreaks`.
   * @default {} (csv.read's defaults: string arrays, a header line)
   */
  csv?: CsvSplitOptions;
  /**
   * About how many bytes of the file one range (one task of a worker) holds; ranges are
   * cut at row starts by csv.split. At most `threads × 2` ranges are in flight.
   * @default 1048576 (about 4,700 rows of the 43-column parking file)
   */
  rangeBytes?: number;
}

const PARALLEL_CSV_OPTIONS = optionNames<ParallelCsvOptions<unknown>>('parallel.csv()', {
  export: true, threads: true, onError: true, retries: true, resourceLimits: true, highWaterMark: true, timeout: true, csv: true, rangeBytes: true,
});

export interface ParallelCsvSettings<Out> extends ParallelSettings<unknown, Out> {
  readonly file: string;
  readonly rangeBytes: number;
  /** csv.split's options as given (checked), sent to every worker. */
  readonly csv: CsvSplitOptions;
  /** Plans the ranges (on the main thread: one scan of the file). */
  readonly splitter: CsvSplitSource<unknown>;
}

export function resolveParallelCsvOptions<Out>(file: unknown, module: unknown, options: unknown): ParallelCsvSettings<Out> {
  if (typeof file !== 'string' || file === '') fail('file', 'a path', file);
  const { csv: read, rangeBytes } = (options ?? {}) as ParallelCsvOptions<Out>;
  const settings = resolveParallelOptions<unknown, Out>(module, options, 'parallel.csv', PARALLEL_CSV_OPTIONS);
  if (read !== undefined && (typeof read !== 'object' || read === null || Array.isArray(read))) fail('csv', 'an object of csv.read options', read);
  // A reject is stored on the main thread while its row waits; a parser on a worker has no channel to send it on.
  if (read?.ragged === 'reject') fail('csv.ragged', "'fail' or 'keep' (the workers parse; they cannot store rejects)", read.ragged);
  const given = { ...read };
  return {
    ...settings,
    file,
    rangeBytes: rangeBytes === undefined ? 1_048_576 : checkInteger('rangeBytes', rangeBytes, 1),
    csv: given,
    splitter: csv.split<unknown>(file, given),
  };
}
