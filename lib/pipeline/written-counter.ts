import { Readable, Transform, Writable, type Stream, type TransformCallback } from 'node:stream';

/** Counts the rows that reach the sink, just before it. */
export class WrittenCounter extends Transform {
  count = 0;
  constructor() {
    super({ objectMode: true });
  }
  override _transform(row: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.count++;
    callback(null, row);
  }
}

/** Ends a pipeline whose last stage is readable: its rows are counted as written, then dropped. */
export class CountingSink extends Writable {
  count = 0;
  constructor() {
    super({ objectMode: true });
  }
  static needed(last: Stream): boolean {
    return last instanceof Readable;
  }
  override _write(_row: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.count++;
    callback();
  }
}
