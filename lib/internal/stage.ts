import { Transform, type TransformOptions } from 'node:stream';
import { inheritOrigin } from './origin.js';

/** Row counts of one stage; `run()` adds them up into its summary. */
export interface StageStats {
  /** Rows that reached the stage. */
  in: number;
  /** Rows (or batches) the stage passed on. */
  out: number;
  /** Rows the stage dropped on purpose (filter, skip, after take's limit). */
  filtered: number;
  /** Rows the stage sent to the reject channel. */
  rejected: number;
}

/**
 * The base of every sluice operation: an object-mode Transform that names itself (for
 * error messages) and counts what passes through it.
 */
export class Stage<In = unknown, Out = unknown> extends Transform {
  /** Typed marker for the row types; never set at run time. */
  declare readonly __types?: { in: (row: In) => void; out: Out };
  readonly stats: StageStats = { in: 0, out: 0, filtered: 0, rejected: 0 };

  constructor(
    /** How the stage appears in errors and rejects, e.g. `map(addDays)`. */
    readonly stage: string,
    highWaterMark?: number,
    options: TransformOptions = {},
  ) {
    super({ readableObjectMode: true, writableObjectMode: true, ...(highWaterMark === undefined ? {} : { highWaterMark }), ...options });
  }

  /** Passes a row on, counting it and keeping the source line of the row it came from. */
  protected pushOut(from: unknown, value: Out): void {
    this.stats.out++;
    inheritOrigin(from, value);
    this.push(value);
  }
}

export function isStage(value: unknown): value is Stage {
  return value instanceof Stage;
}

/** `name` of a user function for stage names: `map(addDays)`, or `map()` for arrows. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function stageName(operation: string, fn?: Function): string {
  return `${operation}(${fn?.name ?? ''})`;
}

// Type-only: iterating a stage (or a `pipe()` ending in one) yields its `Out` rows.
export interface Stage<In = unknown, Out = unknown> {
  [Symbol.asyncIterator](): NodeJS.AsyncIterator<Out>;
}
