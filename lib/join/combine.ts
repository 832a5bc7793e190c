/**
 * Output rows of a join (pure): the user's `merge(left, right)`, or by default
 * `[...left, ...right]` for arrays and `{ ...left, ...right }` for objects. A column name on
 * both sides is an error unless prefixes are given — except the key columns named alike on
 * both sides (`on: 'id'`), which appear once. A side without a match is `null` for `merge`;
 * by default its columns are filled with `null`, in the shape of the first row seen on that
 * side (none yet: no columns).
 */
import { setField } from '../core/rows.js';
import { fieldsOf, TextRow } from '../core/text-row.js';
import { checkOptions, fail, optionNames } from '../core/validate.js';

/** Builds an output row; `null` stands for the side without a match. */
export type Merge<L, R, Out> = (left: L | null, right: R | null) => Out;

/** The default output of a join of `L` and `R` rows. */
export type Joined<L, R> = L extends readonly unknown[]
  ? R extends readonly unknown[] ? [...L, ...R] : never
  : L & R;

export interface OutputOptions<L, R, Out> {
  /** Builds each output row. @default `{ ...left, ...right }` (objects), `[...left, ...right]` (arrays) */
  merge?: Merge<L, R, Out>;
  /** Prefixes every non-key column of a side in the default object output (e.g. `{ right: 'code_' }`). @default none */
  prefix?: { left?: string; right?: string };
}

type Shape = number | string[];

export class Combiner<L, R, Out> {
  private shapes: [Shape | null, Shape | null] = [null, null];
  private readonly prefixes: [string, string];

  constructor(private readonly stage: string, private readonly shared: ReadonlySet<string>, options: OutputOptions<L, R, Out>) {
    this.merge = options.merge;
    this.prefixes = [options.prefix?.left ?? '', options.prefix?.right ?? ''];
  }

  private readonly merge: Merge<L, R, Out> | undefined;

  /** Learns a side's shape from its first row. */
  saw(side: 0 | 1, row: unknown): void {
    if (this.shapes[side] === null && !this.merge) this.shapes[side] = shapeOf(row);
  }

  /** The output row of `left` and `right` (one of them may be null). */
  combine(left: L | null, right: R | null): Out {
    if (this.merge) return this.merge(left, right);
    if (left !== null) this.saw(0, left);
    if (right !== null) this.saw(1, right);
    const sample = left ?? right;
    if (Array.isArray(sample)) {
      return [...(left === null ? nulls(this.shapes[0]) : (left as unknown[])), ...(right === null ? nulls(this.shapes[1]) : (right as unknown[]))] as Out;
    }
    const out: Record<string, unknown> = {};
    this.put(out, left, 0);
    this.put(out, right, 1);
    return out as Out;
  }

  /**
   * The output row of a TextRow `left` (made only without `merge`, see `JoinBase.textRowReads`):
   * the same line with the fields of `right` (or its nulls) appended, as `[...left, ...right]`
   * would give; a `right` that is not an array goes with the fields of `left`, as unfused.
   */
  appendTo(left: TextRow, right: R | null): Out {
    if (right !== null && !Array.isArray(right)) return this.combine(fieldsOf(left.with([])) as L, right);
    this.saw(0, left);
    if (right !== null) this.saw(1, right);
    return left.appending(right === null ? nulls(this.shapes[1]) : (right as unknown[])) as Out;
  }

  private put(out: Record<string, unknown>, row: unknown, side: 0 | 1): void {
    const prefix = this.prefixes[side];
    if (row === null) {
      const shape = this.shapes[side];
      if (Array.isArray(shape)) for (const k of shape) if (!this.shared.has(k)) setField(out, prefix + k, null);
      return;
    }
    if (typeof row !== 'object' || Array.isArray(row)) {
      throw new TypeError(`${this.stage} joins object rows with object rows and arrays with arrays; got ${Array.isArray(row) ? 'an array' : typeof row} on the ${side === 0 ? 'left' : 'right'}`);
    }
    for (const k of Object.keys(row)) {
      const v = (row as Record<string, unknown>)[k];
      if (this.shared.has(k)) {
        if (side === 0 || !Object.hasOwn(out, k) || out[k] === null) setField(out, k, v);
        continue;
      }
      const name = prefix + k;
      if (side === 1 && Object.hasOwn(out, name)) {
        throw new Error(`${this.stage}: column "${name}" is on both sides; give \`prefix: { left, right }\` or a \`merge\` function`);
      }
      setField(out, name, v);
    }
  }
}

function shapeOf(row: unknown): Shape {
  if (row instanceof TextRow) return row.width + row.appended.length;
  return Array.isArray(row) ? row.length : typeof row === 'object' && row !== null ? Object.keys(row) : 0;
}

function nulls(shape: Shape | null): null[] {
  return typeof shape === 'number' ? new Array<null>(shape).fill(null) : [];
}

const PREFIX_OPTIONS = optionNames<NonNullable<OutputOptions<unknown, unknown, unknown>['prefix']>>('prefix', { left: true, right: true });

/** Checks `merge` and `prefix`. */
export function checkOutput(o: Record<string, unknown>): void {
  if (o.merge !== undefined && typeof o.merge !== 'function') fail('merge', 'a function', o.merge);
  if (o.prefix !== undefined) {
    const p = o.prefix as Record<string, unknown>;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) fail('prefix', 'an object { left?, right? }', p);
    checkOptions('prefix', p, PREFIX_OPTIONS);
    for (const side of ['left', 'right']) if (p[side] !== undefined && typeof p[side] !== 'string') fail(`prefix.${side}`, 'a string', p[side]);
  }
}
