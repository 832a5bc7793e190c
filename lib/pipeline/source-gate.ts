import { finished, Readable, Transform, type TransformCallback } from 'node:stream';
import { afterReadOut } from '../core/after-read-out.js';
import { deliversBeforeFailing } from '../core/fusion.js';
import { RowBatch } from '../core/row-batch.js';
import type { GateMode } from './batch-rows.js';

/**
 * The first stage of every `run()`/`pipe()`: counts the rows read and can stop the source
 * early without failing the pipeline. `stop()` detaches and destroys the source (closing
 * its file, cursor or generator) and ends the gate normally, so the rows already in
 * flight drain and every later stage finishes as if the input had ended — which is how
 * `take(n)` completes without `ERR_STREAM_PREMATURE_CLOSE`.
 */
export class SourceGate extends Transform {
  read_ = 0;
  stopped = false;
  /**
   * The streams after the gate, in order (set by the chain): when the source fails, what
   * they hold in their output buffers is read out before the pipeline is torn down.
   */
  downstream: readonly Readable[] = [];

  /**
   * @param mode whether the source sends batches of rows (see lib/pipeline/batch-rows.ts)
   * and the gate passes them whole (holding one a side) or takes them apart.
   */
  /**
   * @param keep the caller owns the source (an HTTP request body, or `keepSource: true`):
   * on failure the gate stops reading it and drains the rest, and never destroys it, so a
   * request's socket stays open for the handler's answer (a 400 naming the line).
   */
  constructor(readonly source: Readable, private readonly mode: GateMode = 'rows', private readonly keep = false) {
    // A byte source keeps its byte high-water mark: an object-mode gate would hold 16 chunks
    // a side, whatever their size (megabytes ahead of a parser that is about to fail).
    super(
      source.readableObjectMode === false
        ? { highWaterMark: source.readableHighWaterMark }
        : { objectMode: true, ...(mode === 'rows' ? {} : { writableHighWaterMark: 1 }), ...(mode === 'pass' ? { readableHighWaterMark: 1 } : {}) },
    );
    // A source that asks for it (a CSV parser): the rows it passed on before it failed are
    // read out first (the gate's buffer and the stages' after it), so a consumer sees every
    // row before the bad one, then the error. Other sources fail at once.
    const readsOut = (source as { [deliversBeforeFailing]?: boolean })[deliversBeforeFailing] === true;
    let failing = false;
    const fail = (error: Error) => {
      if (failing || this.stopped || this.destroyed) return;
      failing = true;
      if (!readsOut) {
        this.destroy(error);
        return;
      }
      // The gate, then each stage after it in turn (rows pass on synchronously between them).
      const readOut = (i: number): void => {
        if (this.destroyed) return;
        if (i > this.downstream.length) this.destroy(error);
        else afterReadOut(i === 0 ? this : this.downstream[i - 1], () => readOut(i + 1));
      };
      readOut(0);
    };
    source.on('error', fail);
    // A source destroyed without an error (not by us) is a premature close: fail.
    finished(source, { readable: true, writable: false }, (error) => {
      if (error) fail(error);
    });
    source.pipe(this);
  }

  override _transform(row: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    // A batch passes whole to a sluice stage, which takes it apart (and may give some rows
    // back); for anything else the gate takes it apart (see lib/pipeline/batch-rows.ts).
    if (row instanceof RowBatch && this.mode === 'unbatch') {
      // Row by row, as the source would have pushed them: a push may reach a take(n) at
      // once, which stops the source; the rows after that were never read.
      for (const each of row.rows) {
        if (this.stopped || this.destroyed) break;
        this.read_++;
        this.push(each);
      }
      callback();
      return;
    }
    if (row instanceof RowBatch) {
      row.gate = this;
      this.read_ += row.rows.length;
    } else {
      this.read_++;
    }
    callback(null, row);
  }

  stop(): void {
    if (this.stopped || this.destroyed) return;
    this.stopped = true;
    this.source.unpipe(this);
    this.end();
    if (this.keep) release(this.source, this);
    else this.source.destroy();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.keep) release(this.source, this);
    else if (!this.source.destroyed) this.source.destroy();
    callback(error);
  }
}

/**
 * Lets go of a source the caller owns: no longer piped into the gate, and read to its end
 * with its data dropped (what Node's HTTP server does with a body nobody reads), so a
 * client still sending gets the answer instead of a reset connection.
 */
function release(source: Readable, gate: SourceGate): void {
  source.unpipe(gate);
  if (!source.destroyed && !source.readableEnded) source.resume();
}
