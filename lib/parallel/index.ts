/**
 * Row functions on worker threads: `parallel.map` runs the export of a module on a pool of
 * worker threads (piscina), fed in batches sized by bytes (a slow function's by its measured work), with stream backpressure, input
 * order (or not) and row-level errors as for `map`.
 *
 * Read first: parallel-map.ts (the stage). A row flows: parallel-map.ts gathers it into a
 * batch (filling-batch.ts, sized by row-size.ts or, for a row that is its CSV line, by that
 * line: raw-rows.ts) → packing.ts packs the batch → pool.ts
 * sends it to a worker (batch-timer.ts watches its `timeout`), where worker.ts runs the
 * user's function on each row (run-rows.ts; with `mainThread`, the main thread runs some
 * batches itself the same way, unpacked) → the results come back (protocol.ts says what crosses;
 * tails.ts sends back only appended columns) and leave in order; a row's throw becomes a
 * RowError, a dead worker or a batch past its timeout a WorkerError (errors.ts).
 * options.ts checks the options once; stats.ts says where the time went.
 *
 * `parallel.csv` (csv.ts, the stage parallel-csv.ts) instead plans a CSV file's byte ranges
 * with csv.split and sends each range to a worker (range-task.ts), which reads, parses and
 * maps it; only the results come back, in file order.
 */
import { parallelCsv } from './csv.js';
import { parallelMap } from './map.js';

/** Worker-thread stages: `parallel.map`, and `parallel.csv` (a CSV file read, parsed and mapped on the workers). */
export const parallel = { map: parallelMap, csv: parallelCsv } as const;

export { WorkerError } from './errors.js';
export type { ParallelCsvOptions } from './csv-options.js';
export type { ParallelCsvStage } from './parallel-csv.js';
export type { ParallelMapOptions } from './options.js';
export type { ParallelMapStage } from './parallel-map.js';
export type { ParallelStats } from './stats.js';
