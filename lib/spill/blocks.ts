/**
 * A run file's records framed in checksummed blocks (pure: buffers in, buffers out). A block
 * is `[u32 byte length][u32 CRC-32 of those bytes][whole records]`: about `BLOCK` bytes of
 * records (a record larger than that is a block of its own), so one CRC-32 covers hundreds of
 * rows instead of one each, and a reader still decodes at most a block at a time.
 */
import { crc32 } from '../core/builtins.js';
import { BLOCK_HEAD, RECORD_HEAD } from './spill-format.js';

/** Bytes of records a block holds at most, unless one record alone is larger. */
export const BLOCK = 1 << 16;
/** Bytes of framed blocks handed out at once. */
const OUT = 1 << 18;

/** Frames chunks of whole records as blocks, into one buffer reused between the chunks it hands out. */
export class BlockFramer {
  private out = Buffer.allocUnsafe(OUT);
  private used = 0;

  /**
   * Frames `records` (whole records), yielding the framed bytes whenever the buffer is full;
   * each yielded buffer must be written before the next is asked for. `records` may be reused
   * once this returns (its bytes are copied).
   */
  *frame(records: Buffer): Generator<Buffer> {
    let at = 0;
    while (at < records.length) {
      const start = at;
      do at += RECORD_HEAD + records.readUInt32LE(at);
      while (at < records.length && at - start + RECORD_HEAD + records.readUInt32LE(at) <= BLOCK);
      const size = BLOCK_HEAD + at - start;
      if (this.used + size > this.out.length) {
        if (this.used > 0) yield this.take();
        if (size > this.out.length) this.out = Buffer.allocUnsafe(size);
      }
      const block = records.subarray(start, at);
      this.out.writeUInt32LE(block.length, this.used);
      this.out.writeUInt32LE(crc32(block), this.used + 4);
      this.used += BLOCK_HEAD + block.copy(this.out, this.used + BLOCK_HEAD);
    }
  }

  /** The framed bytes not yet handed out (to write at the end of the file). */
  *end(): Generator<Buffer> {
    if (this.used > 0) yield this.take();
  }

  private take(): Buffer {
    const bytes = this.out.subarray(0, this.used);
    this.used = 0;
    return bytes;
  }
}
