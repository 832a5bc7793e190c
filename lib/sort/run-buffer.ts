/**
 * One sort run held off the V8 heap (pure: buffers in, buffers out; no files). Each row is
 * encoded as it arrives into slabs of spill records (the format of lib/spill, so a run is
 * written to disk by copying bytes, never encoding twice), its sort keys are read out once
 * into one array per key, and the run is sorted as an index over them. Invariants: the row
 * objects themselves are not kept (they die young, cheap for the collector); `bytes` counts
 * what is held — the records, 8 bytes of position a row, and the keys' estimated size.
 */
import { RECORD_HEAD, RecordReader, RecordWriter, estimateBytes } from '../spill/index.js';
import { compareValues, type ResolvedKey } from './keys.js';

/** Records go to a new slab past this size (the last one may be larger: it holds a whole record). */
const SLAB = 1 << 20;
/** Bytes of records per chunk handed to the file writer. */
const CHUNK = 1 << 16;
const SLAB_SHIFT = 2 ** 32;

export class RunBuffer<T> {
  private readonly slabs: Buffer[] = [];
  private writer = new RecordWriter();
  /** Where each row's record starts: slab × 2³² + offset. */
  private at = new Float64Array(1024);
  private readonly keys: unknown[][];
  /** Rows held. */
  count = 0;
  /** Bytes held (see the invariants). */
  bytes = 0;

  constructor(private readonly sortKeys: readonly ResolvedKey<T>[]) {
    this.keys = sortKeys.map(() => []);
  }

  /** Reads the row's keys (a key function's throw propagates, the row not added) and encodes it. */
  add(row: T): void {
    const keys = this.sortKeys;
    let bytes = 8;
    for (let k = 0; k < keys.length; k++) {
      const v = keys[k]!.get(row);
      this.keys[k]!.push(v);
      bytes += estimateBytes(v);
    }
    const offset = this.writer.length;
    this.writer.add(row);
    if (this.count === this.at.length) {
      const grown = new Float64Array(this.at.length * 2);
      grown.set(this.at);
      this.at = grown;
    }
    this.at[this.count++] = this.slabs.length * SLAB_SHIFT + offset;
    this.bytes += bytes + this.writer.length - offset;
    if (this.writer.length >= SLAB) this.slabs.push(this.writer.take());
  }

  /** The rows' indexes in sorted order; ties in input order (stable). */
  order(): Uint32Array {
    if (this.writer.length > 0) this.slabs.push(this.writer.take());
    this.writer = new RecordWriter();
    const index = new Uint32Array(this.count);
    for (let i = 0; i < index.length; i++) index[i] = i;
    return index.sort(this.indexComparator());
  }

  /**
   * Compares two row indexes by their keys. Keys of strings only under the default order
   * (CSV fields) are compared with `<` directly: the same order as `compareValues`, without
   * its type dispatch, which is most of a run's sorting time.
   */
  private indexComparator(): (a: number, b: number) => number {
    const keys = this.sortKeys.map((key, k) => ({ ...key, values: this.keys[k]!, strings: key.cmp === compareValues && this.keys[k]!.every((v) => typeof v === 'string') }));
    if (keys.every((key) => key.strings && key.sign === 1)) {
      const columns = keys.map((key) => key.values as string[]);
      if (columns.length === 1) {
        const v = columns[0]!;
        return (a, b) => (v[a]! < v[b]! ? -1 : v[a]! > v[b]! ? 1 : a - b);
      }
      return (a, b) => {
        for (let k = 0; k < columns.length; k++) {
          const x = columns[k]![a]!;
          const y = columns[k]![b]!;
          if (x !== y) return x < y ? -1 : 1;
        }
        return a - b;
      };
    }
    return (a, b) => {
      for (let k = 0; k < keys.length; k++) {
        const { cmp, sign, values } = keys[k]!;
        const c = cmp(values[a], values[b]);
        if (c !== 0) return sign * c;
      }
      return a - b;
    };
  }

  /** The records in `order`, copied into chunks of about 64 kB for a run file. */
  *chunks(order: Uint32Array): Generator<Buffer> {
    let out = Buffer.allocUnsafe(CHUNK);
    let used = 0;
    for (const i of order) {
      const [slab, offset] = this.locate(i);
      const end = offset + RECORD_HEAD + slab.readUInt32LE(offset);
      if (used + end - offset > out.length) {
        if (used > 0) yield out.subarray(0, used);
        out = Buffer.allocUnsafe(Math.max(CHUNK, end - offset));
        used = 0;
      }
      used += slab.copy(out, used, offset, end);
    }
    if (used > 0) yield out.subarray(0, used);
  }

  /** The row at index `i`, decoded (the in-memory case: nothing was spilled). */
  row(i: number, reader: RecordReader): unknown {
    const [slab, offset] = this.locate(i);
    return reader.record(slab, offset, false); // never left memory: no checksum to check
  }

  private locate(i: number): [Buffer, number] {
    const at = this.at[i]!;
    const slab = Math.floor(at / SLAB_SHIFT);
    return [this.slabs[slab]!, at - slab * SLAB_SHIFT];
  }
}
