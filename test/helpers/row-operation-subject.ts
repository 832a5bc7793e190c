import type { ConcurrentOptions, RowContext, Stage } from '../../lib/index.js';

/** The user function a contract test gives the operation: rows are numbers. */
export type ContractFunction = (row: number, context: RowContext) => unknown;

/** A row operation under test: how to make its stage, and how its function passes a row on. */
export interface RowOperationSubject {
  /** The operation's name, as its stages are named: `map`, `filter`, `tap`. */
  readonly name: string;
  /** The name its TypeError gives the function argument: `fn` or `predicate`. */
  readonly fnOption: string;
  readonly make: (fn: ContractFunction, options?: ConcurrentOptions<number, number>) => Stage<number, number>;
  /** What the function returns to pass a row on unchanged (map: the row; filter: true; tap: anything). */
  readonly pass: (row: number) => unknown;
}

/** A function named `explode` that passes rows on and throws `bad row N` on the rows listed. */
export function failingOn(subject: RowOperationSubject, ...bad: number[]) {
  const errors = new Map<number, Error>();
  const fn = function explode(x: number): unknown {
    if (!bad.includes(x)) return subject.pass(x);
    const error = new Error(`bad row ${x}`);
    errors.set(x, error);
    throw error;
  };
  return { fn, errors };
}
