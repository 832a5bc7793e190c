import { isProjectingSource } from '../core/fusion.js';
import { SelectStage } from '../operations/select.js';

/** Internal switch, for tests that compare fused and unfused pipelines. */
export const projectionFusion = { enabled: true };

/**
 * Why `select` may not be fused into the source before it, or null when it may. Fusing
 * gives exactly the rows, summary and errors of the unfused pipeline only when the source
 * says so (`projectionBlocker()`: for a csv stage, sluice's own scanner, no columns of its
 * own, nothing read yet, `ragged: 'fail'`) and the select picks indexes of array rows or
 * names of object rows, has seen no row, and its `onError` is the default `'fail'`.
 * A column the rows lack is found at the header (or first row): the source then reads
 * whole rows again and raises the select's own error for the first row it would pass on.
 */
function fusionBlocker(source: unknown, next: unknown): string | null {
  if (!projectionFusion.enabled) return 'disabled';
  if (!isProjectingSource(source)) return 'source cannot project';
  if (!(next instanceof SelectStage)) return 'next stage is not select';
  const blocker = source.projectionBlocker();
  if (blocker !== null) return blocker;
  if (next.byIndex === source.objectRows) return 'select columns do not match the row shape';
  if (!next.failsOnError) return "select's onError is not 'fail'";
  if (next.fusedInto !== null || next.stats.in !== 0 || next.destroyed) return 'select has started';
  return null;
}

/** Fuses `next`, a `select` right after a projecting source, into it when that changes nothing; true if fused. */
export function fuseProjection(source: unknown, next: unknown): boolean {
  if (fusionBlocker(source, next) !== null || !isProjectingSource(source)) return false;
  const select = next as SelectStage;
  source.fuseSelect(select);
  select.fusedInto = source.stage;
  return true;
}
