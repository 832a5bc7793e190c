/**
 * What a distributed run is made of: a split source (`csv.split`, `postgres.split`, or
 * your own: anything with `plan(n)` and `open(split)`), the pipeline a worker runs for one
 * split, and what a split's run reports.
 */
import type pg from 'pg';
import type { SourceLike, Summary } from '../pipeline/index.js';
import type { Reject } from '../core/reject.js';

/** A split descriptor: serialisable (JSON), with an id stable across plans of the same input. */
export interface Split {
  readonly id: string;
  readonly index: number;
  readonly count: number;
}

/** A source that cuts itself into splits and opens one (see `csv.split`, `postgres.split`). */
export interface SplitSource<S extends Split = Split> {
  plan(n: number): Promise<S[]>;
  open(split: S): SourceLike;
}

/** What the pipeline of one split is given beside its rows. */
export interface SplitContext<S extends Split = Split> {
  readonly split: S;
  /** 1 on the first delivery of this split, 2 on its first redelivery, … */
  readonly attempt: number;
  /**
   * With `exactlyOnce`: the client whose transaction holds this split's done-marker. Write
   * through it (`postgres.write(context.client, …)`) and the rows commit with the marker,
   * or not at all. Null otherwise.
   */
  readonly client: pg.ClientBase | null;
  /** Aborted when the worker stops. */
  readonly signal: AbortSignal;
}

/**
 * Builds one split's pipeline: the arguments of `run()` after the source, e.g.
 * `(rows, { client }) => [rows, filter(isPolice), postgres.write(client!, { table: 't' })]`.
 */
export type SplitPipeline<S extends Split = Split> = (rows: SourceLike, context: SplitContext<S>) => readonly unknown[];

/** A reject, with the split it came from. */
export interface SplitReject extends Reject {
  readonly split: string;
}

/** What one split's run did. */
export interface SplitSummary extends Summary {
  readonly split: string;
  readonly attempt: number;
  /** True when the split's done-marker already existed: acknowledged without writing. */
  readonly skipped: boolean;
}

/** Totals over the splits a worker (or a partition) ran. */
export interface DistributedSummary {
  /** Per split, in the order they finished. */
  readonly splits: SplitSummary[];
  /** Rows written (by splits not skipped). */
  readonly rows: number;
  readonly read: number;
  readonly rejected: number;
  readonly filtered: number;
  /** Deliveries run, successful or not (a redelivered split counts each time). */
  readonly attempts: number;
  /** Splits whose run failed (to be retried by the queue, or failed for good). */
  readonly failed: number;
  readonly ms: number;
}
