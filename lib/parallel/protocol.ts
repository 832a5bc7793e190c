/**
 * The messages between the stage and its workers (pure types, shared by both sides): a task
 * is one batch; its result has one output per row, and the rows whose function threw.
 */
import type { CsvSplit, CsvSplitOptions } from '../csv/index.js';
import type { Packed } from './packing.js';
import type { TailShape } from './tails.js';

/** What every worker of a stage is started with (`workerData`). */
export interface WorkerSetup {
  /** The user's module, as a URL string. */
  readonly module: string;
  /** The name of the row function's export. */
  readonly exportName: string;
  /**
   * When sluice itself runs from its TypeScript source (under tsx): tsx's ES module hooks
   * to register in the worker first, as a URL — on Node 20, tsx registers them on the main
   * thread only, so the worker could not import a `.ts` module otherwise.
   */
  readonly tsxHooks?: string;
}

export interface BatchTask {
  readonly rows: Packed;
  /** 1-based number (within the stage) of the batch's first row: `index` of the function's context. */
  readonly firstIndex: number;
  /** Stop at the first row that throws (onError 'fail': the rest would not be used). */
  readonly stopAtFailure: boolean;
  /**
   * With a `timeout`: one slot of shared memory where the worker stamps when it starts the
   * batch (µs of `performance.timeOrigin + performance.now()`), so the stage counts the time
   * from there, not while the batch waits in line behind another.
   */
  readonly started?: BigInt64Array;
}

/** A row whose function threw (or returned null/undefined), with the error as the worker saw it. */
export interface RowFailure {
  /** Position of the row in its batch (0-based). */
  readonly at: number;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export interface BatchResult {
  /** One output per row up to the last row run; a failed row's place holds `null`. */
  readonly outputs: Packed;
  /**
   * Set when `outputs` holds only what each result appended to its row, all rows' values
   * back to back (see tails.ts): how they divide among the rows, and how many rows ran.
   */
  readonly appended?: { readonly shape: TailShape; readonly rows: number };
  readonly failures: RowFailure[];
  /** Milliseconds spent in the user's function on the batch. */
  readonly fnMs: number;
  /**
   * When the task started and ended in the worker, and when the worker's task before it
   * ended (0 for its first), as `performance.timeOrigin + performance.now()`: one clock for
   * every thread of the process.
   */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly previousEndedAt: number;
  /** Set instead when the module or its export could not be loaded: the stage fails. */
  readonly loadError?: string;
}

/** parallel.csv: one byte range of a CSV file for a worker to read, parse and map. */
export interface RangeTask {
  readonly split: CsvSplit;
  /** csv.split()'s options (csv.read's and quotedLineBreaks), checked on the main thread. */
  readonly options: CsvSplitOptions;
  readonly stopAtFailure: boolean;
  /** As BatchTask.started. */
  readonly started?: BigInt64Array;
}

/** A row of a range whose function threw: also the row itself (the main thread never saw it), for rejects. */
export interface RangeFailure extends RowFailure {
  readonly row: unknown;
}

/** A CSV error met while parsing a range, as plain data (errors do not cross threads as themselves). */
export interface ParseFailure {
  readonly source: string;
  readonly line: number;
  readonly column?: number;
  readonly reason: string;
}

export interface RangeResult {
  /** One output per row parsed (up to the last row run); a failed row's place holds `null`. */
  readonly outputs: Packed;
  /** The file line of each of those rows. */
  readonly lines: number[];
  readonly failures: RangeFailure[];
  /** The header's names as the range's parser saw them, or null: none. */
  readonly headers: string[] | null;
  readonly fnMs: number;
  /** Set when the range's CSV is invalid after the rows above: the stage fails with it. */
  readonly parseError?: ParseFailure;
  readonly loadError?: string;
}
