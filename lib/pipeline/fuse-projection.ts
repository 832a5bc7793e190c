import { CsvParseStage } from '../operations/csv-parse.js';
import { SelectStage } from '../operations/select.js';

/** Internal switch, for tests that compare fused and unfused pipelines. */
export const projectionFusion = { enabled: true };

/**
 * Why `select` may not be fused into the csv source before it, or null when it may. Fusing
 * gives exactly the rows, summary and errors of the unfused pipeline only when:
 * - the source is a `csv.read`/`csv.parse` stage with sluice's own scanner (it projects
 *   fields as it splits them), no `columns` of its own, and nothing read yet (`bytesIn`
 *   and `stats.in` are 0);
 * - its `ragged` policy is `'fail'` (the default): every row's full width is still checked
 *   and no row reaches the reject channel, where a projected row would show fewer fields;
 * - the select picks indexes of array rows or names of object rows, has seen no row, and
 *   its `onError` is the default `'fail'`.
 * A column the rows lack is found at the header (or first row): the source then reads
 * whole rows again and raises the select's own error for the first row it would pass on.
 */
function fusionBlocker(source: unknown, next: unknown): string | null {
  if (!projectionFusion.enabled) return 'disabled';
  if (!(source instanceof CsvParseStage)) return 'source is not a csv stage';
  if (!(next instanceof SelectStage)) return 'next stage is not select';
  if (source.parser !== 'sluice') return "source uses fast-csv's parser";
  if (source.columns !== null || source.fusedSelect !== null) return 'source already has columns';
  if (source.bytesIn !== 0 || source.stats.in !== 0 || source.destroyed) return 'source has started';
  if (source.ragged !== 'fail') return "source's ragged is not 'fail'";
  if (next.byIndex === source.objectRows) return 'select columns do not match the row shape';
  if (!next.failsOnError) return "select's onError is not 'fail'";
  if (next.fusedInto !== null || next.stats.in !== 0 || next.destroyed) return 'select has started';
  return null;
}

/** Fuses `next`, a `select` right after a csv source, into it when that changes nothing; true if fused. */
export function fuseProjection(source: unknown, next: unknown): boolean {
  if (fusionBlocker(source, next) !== null) return false;
  const select = next as SelectStage;
  (source as CsvParseStage<unknown>).fuseSelect(select);
  select.fusedInto = (source as CsvParseStage<unknown>).stage;
  return true;
}
