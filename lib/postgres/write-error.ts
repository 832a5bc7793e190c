import { originOf, type Origin } from '../core/origin.js';
import { PostgresError } from './connection.js';

/** The batch's rows as `rows 3001–4000 (in.csv, lines 3002–4001)`. */
function describeRows(first: number, rows: readonly unknown[]): string {
  const last = first + rows.length - 1;
  const a: Origin | undefined = originOf(rows[0]);
  const b: Origin | undefined = originOf(rows[rows.length - 1]);
  const where = a && b && a.source === b.source ? ` (${a.source}, line${a.line === b.line ? ` ${a.line}` : `s ${a.line}–${b.line}`})` : '';
  return `${first === last ? `row ${first}` : `rows ${first}–${last}`}${where}`;
}

/** A batch the database refused, naming the batch, its rows and (when found) the failing row. */
export class PostgresWriteError extends PostgresError {
  override name = 'PostgresWriteError';
  /** 1-based batch number. */
  readonly batch: number;
  /** 1-based numbers (among the rows the sink received) of the batch's first and last row. */
  readonly rows: readonly [number, number];
  /** The failing row's number among the rows the sink received, when it could be found. */
  readonly row?: number;
  /** Source and line of the failing row (or of the batch's first row). */
  readonly source?: string;
  readonly line?: number;

  constructor(stage: string, batch: number, first: number, rows: readonly unknown[], failing: number | undefined, rolledBack: string, cause: unknown) {
    const failingRow = failing === undefined ? undefined : rows[failing];
    const origin = originOf(failingRow ?? rows[0]);
    const at = failing === undefined ? '' : ` at row ${first + failing} (row ${failing + 1} of the batch${origin && failingRow ? `; ${origin.source}, line ${origin.line}` : ''})`;
    super(`${stage} batch ${batch}, ${describeRows(first, rows)}, failed${at}; ${rolledBack}: ${(cause as Error)?.message ?? cause}`, cause);
    this.batch = batch;
    this.rows = [first, first + rows.length - 1];
    if (failing !== undefined) this.row = first + failing;
    if (origin) {
      this.source = origin.source;
      this.line = origin.line;
    }
  }
}
