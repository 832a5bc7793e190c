/**
 * The join's other input, pulled a row at a time: `take()` gives a buffered row at once, or
 * says `PENDING` (then `await wait()`) or `END`. It reads only as rows are taken, so a
 * stalled join stops that side too (backpressure on both inputs); `close()` destroys it and
 * waits for its close, releasing its file, cursor or generator.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipe, type SourceLike } from '../pipeline/index.js';

export const PENDING = Symbol('pending');
export const END = Symbol('end');

export class SideReader {
  private readonly stream: Readable;
  private ended = false;
  private error: Error | null = null;
  private waiter: (() => void) | null = null;

  constructor(private readonly source: SourceLike) {
    this.stream = pipe(source as Parameters<typeof pipe>[0]);
    this.stream.on('readable', this.wake);
    this.stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.stream.on('error', (error) => {
      this.error = error;
      this.wake();
    });
  }

  private readonly wake = (): void => {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  };

  /** The next row if one is buffered; throws the side's error. */
  take(): unknown {
    if (this.error) throw this.error;
    const row: unknown = this.stream.read();
    if (row !== null) return row;
    if (this.error) throw this.error;
    return this.ended ? END : PENDING;
  }

  /** Resolves when a row, the end or an error has arrived. */
  wait(): Promise<void> {
    if (this.error || this.ended || this.stream.readableLength > 0) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The next row or END (async). */
  async next(): Promise<unknown> {
    for (;;) {
      const x = this.take();
      if (x !== PENDING) return x;
      await this.wait();
    }
  }

  /** Destroys the side (its source is released) and waits until it has closed. */
  async close(): Promise<void> {
    this.wake();
    if (!this.stream.closed) {
      const closed = once(this.stream, 'close').catch(() => undefined);
      this.stream.destroy();
      await closed;
    }
    // The source itself (destroyed by the gate) may close a little later: a file, a spill folder.
    const source = this.source as Readable;
    if (source instanceof Readable && source.destroyed && !source.closed) await once(source, 'close').catch(() => undefined);
  }
}
