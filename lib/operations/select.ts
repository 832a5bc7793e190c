import { RowError, reasonOf } from '../core/errors.js';
import { originOf } from '../core/origin.js';
import { ROW_OPTIONS, RowOperation, resolveRowOptions, type RowContext, type RowOptions } from '../core/row-operation.js';
import { checkColumn, checkHas, setField, type Column } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import { invalid, named } from '../core/validate.js';

/**
 * The stage `select` makes. `run()`/`pipe()` may fuse it into a csv source right before it
 * (see lib/pipeline/fuse-projection.ts): the source then reads only these columns and this
 * stage never runs; `fusedInto` names the source it was fused into.
 */
export class SelectStage<In = unknown, Out = unknown> extends RowOperation<In, Out> {
  /** The source this select was fused into (by `run()`/`pipe()`), or null. */
  fusedInto: string | null = null;
  /** Whether `onError` is the default `'fail'` (the only policy that may be fused). */
  readonly failsOnError: boolean;

  constructor(
    name: string,
    /** The columns kept, in order: indexes (array rows) or names (object rows). */
    readonly columns: readonly number[] | readonly string[],
    private readonly pick: (row: unknown) => unknown,
    options: RowOptions<unknown, unknown>,
  ) {
    const resolved = resolveRowOptions<In, Out>(name, options, ROW_OPTIONS);
    super(name, resolved);
    this.failsOnError = resolved.onError === 'fail';
  }

  get byIndex(): boolean {
    return typeof this.columns[0] === 'number';
  }

  protected call(row: In, _context: RowContext): Out {
    return this.pick(row) as Out;
  }

  protected deliver(row: In, result: Out): void {
    this.pushOut(row, result);
  }

  /**
   * The error this stage fails with on `row` as its `index`-th row (a fused source raises it
   * in its place), or undefined when the row has every column.
   */
  failureFor(row: unknown, index: number): RowError | undefined {
    try {
      this.pick(row);
      return undefined;
    } catch (cause) {
      return new RowError(this.stage, index, originOf(row), reasonOf(cause), cause);
    }
  }
}

/**
 * Keeps only the given columns, in the given order: indexes for array rows, names for
 * object rows. A row that lacks one of them fails (or is rejected, see `onError`).
 * Right after a `csv.read` source, `run()`/`pipe()` push the projection into the source
 * when that gives the same result (see `SelectStage`).
 *
 * @example
 * select([2, 7, 8, 23, 24])                 // ['NJ', 'FORD', 'P', '12', 'MAIN ST']
 * select(['Plate ID', 'Registration State']) // { 'Plate ID': …, 'Registration State': … }
 */
export function select<In extends readonly unknown[]>(columns: readonly number[], options?: RowOptions<In, In[number][]>): Stage<In, In[number][]>;
// K first, so `select(['a', 'b'])` infers the names; the row type then defaults to them.
export function select<K extends string, In extends Readonly<Record<K, unknown>> = Record<K, unknown>>(
  columns: readonly K[],
  options?: RowOptions<In, Pick<In, K>>,
): Stage<In, Pick<In, K>>;
export function select(columns: readonly Column[], options: RowOptions<unknown, unknown> = {}): Stage<unknown, unknown> {
  const cols = named('select()', () => {
    if (!Array.isArray(columns) || columns.length === 0) {
      throw invalid(`Expected \`columns\` to be a non-empty array of column indexes or names, got ${JSON.stringify(columns)}`);
    }
    const checked = columns.map((c, i) => checkColumn(`columns[${i}]`, c));
    if (checked.some((c) => typeof c !== typeof checked[0])) {
      throw invalid('Expected `columns` to be all indexes or all names, not a mix');
    }
    return checked;
  });
  const byIndex = typeof cols[0] === 'number';
  const name = `select(${cols.join(',')})`;
  if (byIndex) {
    const indexes = cols as number[];
    const width = Math.max(...indexes) + 1;
    return new SelectStage(name, indexes, (row: unknown) => {
      if (!Array.isArray(row) || row.length < width) checkHas(row, width - 1);
      const out = new Array<unknown>(indexes.length);
      for (let i = 0; i < indexes.length; i++) out[i] = (row as unknown[])[indexes[i]];
      return out;
    }, options);
  }
  return new SelectStage(name, cols as string[], (row: unknown) => {
    const out: Record<string, unknown> = {};
    for (const column of cols as string[]) {
      checkHas(row, column);
      setField(out, column, (row as Record<string, unknown>)[column]);
    }
    return out;
  }, options);
}
