import { CONCURRENT_OPTIONS, RowOperation, resolveRowOptions, type ConcurrentOptions, type RowContext } from '../core/row-operation.js';
import { copyRow, kindOf, setField } from '../core/rows.js';
import type { Stage } from '../core/stage.js';
import type { TextRowReader } from '../core/fusion.js';
import { TextRow } from '../core/text-row.js';
import { checkFunction, fail, invalid, moreOptionNames, named } from '../core/validate.js';

export interface AddColumnOptions<In> extends ConcurrentOptions<In, In> {
  /**
   * The columns `compute` reads (indexes of array rows, names of object rows): it is then
   * given those fields, in this order, instead of the row. Where `csv.read` → `addColumn` →
   * `csv.write` is the whole pipeline, the other fields of a row are then never made into
   * strings: its line is copied to the output with the new field after it.
   * @default undefined: `compute` is given the row
   */
  reads?: readonly number[] | readonly string[];
}

const ADD_COLUMN_OPTIONS = moreOptionNames<AddColumnOptions<unknown>, ConcurrentOptions<unknown, unknown>>('', CONCURRENT_OPTIONS, { reads: true });

/** The row with `value` as its new last column (a new row: the input is not changed). */
function withColumn<In, Out>(row: In, name: string, value: unknown): Out {
  if (Array.isArray(row)) {
    // Copied at its final size: a spread grows its copy as it iterates (2× the time, 3× the garbage).
    const width = row.length;
    const out = new Array<unknown>(width + 1);
    for (let i = 0; i < width; i++) out[i] = row[i];
    out[width] = value;
    return out as Out;
  }
  const out = copyRow(row as Record<string, unknown>);
  setField(out, name, value);
  return out as Out;
}

type Compute<In, V> = (input: never, context: RowContext) => V | PromiseLike<V>;

class AddColumnStage<In, Out, V> extends RowOperation<In, Out, V> implements TextRowReader {
  constructor(
    private readonly name: string,
    private readonly compute: Compute<In, V>,
    private readonly reads: readonly (number | string)[] | null,
    private readonly failsOnError: boolean,
    options: ReturnType<typeof resolveRowOptions<In, Out>>,
  ) {
    super(`addColumn(${name})`, options);
  }

  /** Internal (lib/core/fusion.ts): the indexes `compute` reads, when it reads indexes and a failing row fails the pipeline (a reject or a replacement needs the whole row). */
  textRowReads(): readonly number[] | null {
    const reads = this.reads;
    return this.failsOnError && reads !== null && reads.every((column) => typeof column === 'number') ? (reads as readonly number[]) : null;
  }

  protected call(row: In, context: RowContext): V | PromiseLike<V> {
    if (row instanceof TextRow) return this.compute(row.reads as never, context);
    if (typeof row !== 'object' || row === null) throw new TypeError(`addColumn() needs array or object rows, got ${kindOf(row)}`);
    if (!Array.isArray(row) && Object.hasOwn(row, this.name)) throw new RangeError(`the row already has a column "${this.name}" (use set() to overwrite)`);
    const reads = this.reads;
    if (reads === null) return this.compute(row as never, context);
    const fields = reads.map((column) => (row as Record<string | number, unknown>)[column]);
    return this.compute(fields as never, context);
  }

  protected deliver(row: In, value: V): void {
    if (row instanceof TextRow) {
      // Only this stage and the CSV sink after it ever see a text row (see TextRow).
      row.appended = [value];
      this.pushOut(row, row as unknown as Out);
      return;
    }
    this.pushOut(row, withColumn<In, Out>(row, this.name, value));
  }
}

/**
 * A computed column: appends `compute(row)` to array rows, or adds it under `name` to
 * object rows (where `name` must be new). The name also labels errors and rejects.
 * `compute` may be async: with `concurrency`, that many rows are computed at once, and
 * with `ordered: false` a row leaves as soon as its value is there (as for `map`).
 * Use `onError: { replaceWith }` for a fallback row when `compute` throws.
 * With `reads`, `compute` is given those fields instead of the row (see `AddColumnOptions.reads`).
 *
 * @example
 * addColumn('days_until_expiration', (row) => daysBetween(row[4], row[12]))
 * addColumn('days_until_expiration', ([issued, expires]) => daysBetween(issued, expires), { reads: [4, 12] })
 * addColumn('owner', (row, { signal }) => lookupPlate(row[1], { signal }), { concurrency: 16, ordered: false })
 */
export function addColumn<F, V>(
  name: string,
  compute: (fields: F[], context: RowContext) => V | PromiseLike<V>,
  options: AddColumnOptions<readonly F[]> & { reads: readonly number[] },
): Stage<readonly F[], [...F[], V]>;
export function addColumn<F, V>(
  name: string,
  compute: (fields: F[], context: RowContext) => V | PromiseLike<V>,
  options: AddColumnOptions<Record<string, F>> & { reads: readonly string[] },
): Stage<Record<string, F>, Record<string, F | V>>;
export function addColumn<In extends readonly unknown[] | object, V>(
  name: string,
  compute: (row: In, context: RowContext) => V | PromiseLike<V>,
  options?: AddColumnOptions<In> & { reads?: undefined },
): Stage<In, In extends readonly unknown[] ? [...In, V] : In & Record<string, V>>;
export function addColumn<In extends readonly unknown[] | object, V>(
  name: string,
  compute: Compute<In, V>,
  options: AddColumnOptions<In> = {},
): Stage<In, In extends readonly unknown[] ? [...In, V] : In & Record<string, V>> {
  type Out = In extends readonly unknown[] ? [...In, V] : In & Record<string, V>;
  named('addColumn()', () => {
    if (typeof name !== 'string' || name === '') throw invalid(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}`);
    checkFunction('compute', compute);
  });
  const resolved = resolveRowOptions<In, Out>(`addColumn(${name})`, options, ADD_COLUMN_OPTIONS);
  const reads = named('addColumn()', () => {
    const given: unknown = options.reads;
    if (given === undefined) return null;
    const columns = (value: unknown): value is readonly (number | string)[] =>
      Array.isArray(value) && (value.every((c) => Number.isInteger(c) && c >= 0) || value.every((c) => typeof c === 'string'));
    if (!columns(given)) fail('reads', 'an array of column indexes (integers from 0) or of column names', given);
    return [...given];
  });
  return new AddColumnStage<In, Out, V>(name, compute, reads, resolved.onError === 'fail', resolved);
}
