/**
 * What `run()`/`pipe()` need of capability stages to make a pipeline cheaper, as protocols,
 * so that lib/pipeline/ names no capability: a source that reads only some columns itself
 * (a `select` fused into it), one that drops rows a `where` after it would drop (before
 * making them), a stage that moves rows in batches, and a sink that takes
 * batches apart itself. csv.parse/csv.read, postgres.query and csv.write implement them.
 */
import { isStage, type Stage, type StageStats } from './stage.js';

/** What a source needs of a `select` fused into it (see `SelectStage`). */
export interface FusedSelect {
  readonly stage: string;
  readonly columns: readonly number[] | readonly string[];
  failureFor(row: unknown, index: number): Error | undefined;
}

/** A source that can read only some columns itself, as a `select` right after it would. */
export interface ProjectingSource {
  /** The stage's name (see `Stage.stage`). */
  readonly stage: string;
  /** Whether rows are objects (a select of names fits) or arrays (a select of indexes). */
  readonly objectRows: boolean;
  /**
   * Why a `select` may not be fused into it now, or null when fusing changes nothing but
   * the cost: the same rows, summary and errors as the unfused pipeline.
   */
  projectionBlocker(): string | null;
  /** Reads only `select.columns` from now on, failing as `select` would on a missing column. */
  fuseSelect(select: FusedSelect): void;
}

export const isProjectingSource = (value: unknown): value is Stage & ProjectingSource =>
  isStage(value) && typeof (value as unknown as Partial<ProjectingSource>).projectionBlocker === 'function';

/** What a source needs of a `where` right after it (see `WhereStage`). */
export interface FusedWhere {
  readonly stage: string;
  /** Each `row[column]` must be one of `values` (SameValueZero). */
  readonly conditions: readonly { readonly column: number | string; readonly values: readonly unknown[] }[];
}

/**
 * A source that can drop rows a `where` after it would drop, before making them: it counts
 * them as its own `filtered`, and the `where` still tests every row it passes on.
 */
export interface FilteringSource {
  readonly stage: string;
  /** Why it may not be told of a `where` now, or null. */
  whereBlocker(): string | null;
  fuseWhere(where: FusedWhere): void;
}

export const isFilteringSource = (value: unknown): value is Stage & FilteringSource =>
  isStage(value) && typeof (value as unknown as Partial<FilteringSource>).whereBlocker === 'function';

/**
 * A source that can pass rows on as their text ({@link TextRow}s, see lib/core/text-row.ts)
 * to a stage that reads only some of their fields and a CSV sink that copies the text.
 */
export interface TextRowSource {
  /** Why it may not pass text rows now (it reads objects, a projection, has begun, …), or null. */
  textRowsBlocker(): string | null;
  /** From now on, rows it can pass as text go as TextRows holding the fields at `reads`. */
  passTextRows(reads: readonly number[]): void;
}

export const isTextRowSource = (value: unknown): value is Stage & TextRowSource =>
  isStage(value) && typeof (value as unknown as Partial<TextRowSource>).passTextRows === 'function';

/** A stage that reads only some fields of each row and can take TextRows (addColumn with `reads`, a join's left side, sort). */
export interface TextRowReader {
  /** The field indexes its function reads when it can take TextRows now, else null. */
  textRowReads(): readonly number[] | null;
}

export const isTextRowReader = (value: unknown): value is Stage & TextRowReader =>
  isStage(value) && typeof (value as unknown as Partial<TextRowReader>).textRowReads === 'function';

/** Marks a CSV sink (csv.write, csv.format) that writes TextRows: their text, then the fields appended. */
export const writesTextRows = Symbol.for('sluice.writesTextRows');

export const isTextRowWriter = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && (value as { [writesTextRows]?: () => boolean })[writesTextRows]?.() === true;

/** A stage that can push its rows in batches (a csv stage's parsed chunk, a cursor's fetch). */
export interface BatchingStage {
  /** Starts pushing batches; false if it declines (a bound in rows was asked for). */
  batchRows(): boolean;
}

export const isBatchingStage = (value: unknown): value is Stage & BatchingStage =>
  isStage(value) && typeof (value as unknown as Partial<BatchingStage>).batchRows === 'function';

/** Marks a sink (not a Stage) whose write takes a {@link RowBatch} apart itself (csv.write). */
export const takesBatches = Symbol.for('sluice.takesBatches');

export const takesBatchesApart = (value: unknown): boolean =>
  isStage(value) || (typeof value === 'object' && value !== null && (value as { [takesBatches]?: boolean })[takesBatches] === true);

/** A source of object rows keyed by a header it reads (csv.read/csv.parse). */
export interface HeaderSource {
  /** The header's names once read (or as given), else null. */
  readonly headers: readonly string[] | null;
  readonly objectRows: boolean;
  readonly stats: StageStats;
}

/**
 * A sink that writes a header line from its first object row's keys (csv.write/csv.format):
 * told of the pipeline's source, so that a source with a header but no data row gives a
 * file with that header instead of an empty one.
 */
export interface HeaderFollower {
  followHeaders(source: HeaderSource): void;
}

export const isHeaderSource = (value: unknown): value is HeaderSource =>
  isStage(value) && typeof (value as unknown as Partial<HeaderSource>).objectRows === 'boolean' && 'headers' in value;

export const isHeaderFollower = (value: unknown): value is HeaderFollower =>
  typeof value === 'object' && value !== null && typeof (value as Partial<HeaderFollower>).followHeaders === 'function';

/**
 * Marks a source (csv.read/csv.parse) whose rows before a failure are to reach the consumer
 * before the failure does: the source gate then reads out the stages after it before tearing
 * the pipeline down. Other sources fail at once (a statement timeout must surface even when
 * the consumer has stalled).
 */
export const deliversBeforeFailing = Symbol.for('sluice.deliversBeforeFailing');
