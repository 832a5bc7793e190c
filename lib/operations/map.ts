import type { Stage } from '../core/stage.js';
import { stageName } from '../core/stage.js';
import { ROW_OPTIONS, RowOperation, resolveRowOptions, type ConcurrentOptions, type RowContext } from '../core/row-operation.js';
import { checkFunction, named, type OptionNames } from '../core/validate.js';

export type MapFunction<In, Out> = (row: In, context: RowContext) => Out | PromiseLike<Out>;
export type MapOptions<In, Out> = ConcurrentOptions<In, Out>;

class MapStage<In, Out> extends RowOperation<In, Out> {
  constructor(
    name: string,
    private readonly fn: MapFunction<In, Out>,
    options: ReturnType<typeof resolveRowOptions<In, Out>>,
  ) {
    super(name, options);
  }
  protected call(row: In, context: RowContext): Out | PromiseLike<Out> {
    return this.fn(row, context);
  }
  protected override check(result: Out): void {
    // `null` would end an object-mode stream and `undefined` is no row: both would lose data.
    if (result === null || result === undefined) throw new TypeError(`returned ${result} (use filter() to drop rows)`);
  }
  protected deliver(row: In, result: Out): void {
    this.pushOut(row, result);
  }
}

/**
 * Turns each row into a new one with `fn(row, { signal, index })`, sync or async.
 *
 * @param fn Returns the new row (or a promise of it); `null`/`undefined` is an error.
 * @param options `concurrency` for async functions (order is kept unless `ordered: false`), `onError`, `highWaterMark`.
 * @example
 * map(([state, make]) => ({ state, make }))
 * map(async (row, { signal }) => ({ ...row, geo: await geocode(row.address, { signal }) }), { concurrency: 4 })
 * map(lookupPlate, { concurrency: 8, ordered: false })   // results leave as they complete
 */
export function map<In, Out>(fn: MapFunction<In, Out>, options: MapOptions<In, Out> = {}): Stage<In, Out> {
  named('map()', () => checkFunction('fn', fn));
  return new MapStage(stageName('map', fn), fn, resolveRowOptions<In, Out>('map', options));
}

/** For operations built on `map`: a named stage running a fixed row function (row options; `concurrency` only where `known` has it). */
export function mapNamed<In, Out>(name: string, fn: MapFunction<In, Out>, options: MapOptions<In, Out>, known: OptionNames = ROW_OPTIONS): Stage<In, Out> {
  return new MapStage(name, fn, resolveRowOptions<In, Out>(name, options, known));
}
