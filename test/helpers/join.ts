/**
 * The joins' reference: a nested-loop join (every left row against every right row, keys
 * equal by `===` after the same null rule), and random inputs for the property tests.
 */
import fc from 'fast-check';

export type Pair = [unknown, unknown];
export type JoinType = 'inner' | 'left' | 'right' | 'full';

/** Every matching pair, then unmatched left rows (left/full) and right rows (right/full), as [left|null, right|null]. */
export function nestedLoop<L, R>(left: L[], right: R[], keyL: (r: L) => unknown, keyR: (r: R) => unknown, type: JoinType): Pair[] {
  const out: Pair[] = [];
  const rightMatched = new Set<number>();
  for (const l of left) {
    let matched = false;
    right.forEach((r, j) => {
      const k = keyL(l);
      if (k !== null && k !== undefined && k === keyR(r)) {
        out.push([l, r]);
        matched = true;
        rightMatched.add(j);
      }
    });
    if (!matched && (type === 'left' || type === 'full')) out.push([l, null]);
  }
  if (type === 'right' || type === 'full') right.forEach((r, j) => rightMatched.has(j) || out.push([null, r]));
  return out;
}

/** Pairs as a sorted list of JSON strings: equal multisets compare equal. */
export const bag = (pairs: readonly unknown[]): string[] => pairs.map((p) => JSON.stringify(p)).sort();

export interface Row {
  k: number | null;
  id: string;
}

/** Rows with small keys (so duplicates on both sides are common), some null keys, unique ids. */
export function rowsArb(side: string, maxLength = 40): fc.Arbitrary<Row[]> {
  return fc.array(fc.option(fc.integer({ min: 0, max: 6 }), { freq: 6 }), { maxLength }).map((keys) => keys.map((k, i) => ({ k, id: `${side}${i}` })));
}

export const typeArb: fc.Arbitrary<JoinType> = fc.constantFrom('inner', 'left', 'right', 'full');

/** Sorted by key, null keys spread anywhere (the joins accept them wherever they stand). */
export function sortedByKey(rows: Row[]): Row[] {
  const keyed = rows.filter((r) => r.k !== null).sort((a, b) => (a.k as number) - (b.k as number));
  const out: Row[] = [];
  let n = 0;
  for (const r of rows) out.push(r.k === null ? r : keyed[n++]!);
  return out;
}
