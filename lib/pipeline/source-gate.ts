import { finished, Readable, Transform, type TransformCallback } from 'node:stream';
import { RowBatch } from '../internal/row-batch.js';

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

  /** @param batched the source sends batches of rows: the gate holds one a side. */
  constructor(readonly source: Readable, batched = false) {
    // A byte source keeps its byte high-water mark: an object-mode gate would hold 16 chunks
    // a side, whatever their size (megabytes ahead of a parser that is about to fail).
    super(source.readableObjectMode === false ? { highWaterMark: source.readableHighWaterMark } : { objectMode: true, ...(batched ? { highWaterMark: 1 } : {}) });
    source.on('error', (error) => {
      if (!this.stopped) this.destroy(error);
    });
    // A source destroyed without an error (not by us) is a premature close: fail.
    finished(source, { readable: true, writable: false }, (error) => {
      if (error && !this.stopped && !this.destroyed) this.destroy(error);
    });
    source.pipe(this);
  }

  override _transform(row: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    // A batch passes whole: only a sluice stage, which takes batches apart, follows a
    // source that sends them (see lib/pipeline/batch-rows.ts); it may give some back.
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
    this.source.destroy();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.source.destroyed) this.source.destroy();
    callback(error);
  }
}
