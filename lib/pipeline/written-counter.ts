import { Readable, Writable, type Stream } from 'node:stream';

/**
 * Counts the rows that reach the sink: the 'data' events of the stream that feeds it, which
 * `stream.pipeline` pipes into it (a listener costs far less than a counting stream between
 * the two). Call it right after `pipeline()`: the rows flow from the next tick on.
 */
export function countData(feeding: Readable): { count: number } {
  const counter = { count: 0 };
  feeding.on('data', () => counter.count++);
  return counter;
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
