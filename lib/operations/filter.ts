import type { Stage } from '../core/stage.js';
import { stageName } from '../core/stage.js';
import { RowOperation, resolveRowOptions, type ConcurrentOptions, type RowContext } from '../core/row-operation.js';
import { checkFunction, named } from '../core/validate.js';

export type Predicate<T> = (row: T, context: RowContext) => unknown;
export type FilterOptions<T> = ConcurrentOptions<T, T>;

/** The stage `filter` makes (and `where`, with a predicate of its conditions). */
export class FilterStage<T> extends RowOperation<T, T, unknown> {
  constructor(
    name: string,
    private readonly predicate: Predicate<T>,
    options: ReturnType<typeof resolveRowOptions<T, T>>,
  ) {
    super(name, options);
  }
  protected call(row: T, context: RowContext): unknown {
    return this.predicate(row, context);
  }
  protected deliver(row: T, keep: unknown): void {
    if (keep) this.pushOut(row, row);
    else this.stats.filtered++;
  }
}

/**
 * Keeps the rows for which `predicate(row, { signal, index })` is truthy (sync or async).
 * Dropped rows are counted as `filtered` in `run()`'s summary. With `onError:
 * { replaceWith }`, the replacement row is passed on in place of the failing one.
 *
 * @example
 * filter(([state, make, agency]) => state === 'NJ' && make === 'FORD' && agency === 'P')
 */
export function filter<T>(predicate: Predicate<T>, options: FilterOptions<T> = {}): Stage<T, T> {
  named('filter()', () => checkFunction('predicate', predicate));
  return new FilterStage(stageName('filter', predicate), predicate, resolveRowOptions<T, T>('filter', options));
}
