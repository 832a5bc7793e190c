import type { Readable } from 'node:stream';

/**
 * Runs `then` once everything already in `stream`'s readable buffer has been read by its
 * consumer — at once when the buffer is empty. For a stream about to fail: destroying a
 * Readable drops its buffer, so rows pushed just before an error (one parse that ends in a
 * bad line) would be lost to a consumer that had not read them yet. Every way of consuming
 * (`pipe`, `'data'`, async iteration) goes through `read()`, so the check sits there, on the
 * instance, and is removed once it fired. `then` runs on a later tick, after the consumer
 * has the last chunk.
 */
export function afterReadOut(stream: Readable, then: () => void): void {
  if (!(stream.readableLength > 0) || stream.destroyed) {
    then();
    return;
  }
  const own = stream as Readable & { read: Readable['read'] };
  const read = own.read;
  own.read = function readThenCheck(this: Readable, size?: number) {
    const chunk: unknown = read.call(this, size);
    if (this.readableLength === 0 && own.read === readThenCheck) {
      own.read = read;
      process.nextTick(then);
    }
    return chunk;
  };
}
