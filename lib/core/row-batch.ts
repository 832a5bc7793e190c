/**
 * Rows moved from one sluice stage to the next as a single stream chunk: a csv source
 * pushes the rows of each text chunk it parses as one batch, so the per-chunk cost of a
 * stream hop (push, buffer, 'data', write, callback) is paid once per batch instead of once
 * per row. `run()`/`pipe()` turn it on only where the receiving stream is a sluice `Stage`,
 * whose `_write` takes a batch apart and transforms its rows one at a time, with the same
 * backpressure as single rows (see `Stage`). Never reaches user code.
 */
export class RowBatch {
  /**
   * Set by the source gate that passes the batch on: once it has stopped the source (`take`),
   * the stage takes no more rows from the batch and gives back the count of those it left.
   */
  gate: { readonly stopped: boolean; read_: number } | null = null;

  constructor(readonly rows: readonly unknown[]) {}

  /**
   * Whether a stage taking the batch apart stops before its `i`th row because the source was
   * stopped; then the rows from there on were never read, as if still in the source, and
   * their count goes back to the gate.
   */
  stopsAt(i: number): boolean {
    const gate = this.gate;
    if (!gate?.stopped) return false;
    gate.read_ -= this.rows.length - i;
    return true;
  }
}
