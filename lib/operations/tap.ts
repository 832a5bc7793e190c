import type { Stage } from '../core/stage.js';
import { stageName } from '../core/stage.js';
import { RowOperation, resolveRowOptions, type ConcurrentOptions, type RowContext } from '../core/row-operation.js';
import { checkFunction, named } from '../core/validate.js';

export type TapOptions<T> = ConcurrentOptions<T, T>;

class TapStage<T> extends RowOperation<T, T, unknown> {
  constructor(
    name: string,
    private readonly fn: (row: T, context: RowContext) => unknown,
    options: ReturnType<typeof resolveRowOptions<T, T>>,
  ) {
    super(name, options);
  }
  protected call(row: T, context: RowContext): unknown {
    return this.fn(row, context);
  }
  protected deliver(row: T): void {
    this.pushOut(row, row);
  }
}

/**
 * Calls `fn(row, { signal, index })` for its side effect and passes the row on unchanged;
 * an async `fn` is awaited (backpressure), with up to `concurrency` calls in flight.
 *
 * @example
 * tap((row, { index }) => { if (index % 100_000 === 0) console.log(index, 'rows') })
 */
export function tap<T>(fn: (row: T, context: RowContext) => unknown, options: TapOptions<T> = {}): Stage<T, T> {
  named('tap()', () => checkFunction('fn', fn));
  return new TapStage(stageName('tap', fn), fn, resolveRowOptions<T, T>('tap', options));
}
