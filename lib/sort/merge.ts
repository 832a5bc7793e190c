/**
 * The k-way merge of sorted runs (the logic apart from the stream): a heap holds the head
 * row of each run, so the merge holds one buffered chunk per run and compares only through
 * the row comparator. Ties go to the earlier run, which keeps the sort stable when the runs
 * are in input order. `take()` is synchronous while rows are buffered and says `PENDING`
 * when a run must be read from disk first (then `refill()`).
 */
import { Heap, type RecordReader, type RunReader } from '../spill/index.js';
import type { RunBuffer } from './run-buffer.js';

export const PENDING = Symbol('pending');
export const END = Symbol('end');

/** A source of rows in order, as the sort stage pumps it. */
export interface RowSource {
  take(): unknown | typeof PENDING | typeof END;
  refill(): Promise<void>;
}

interface Head {
  row: unknown;
  run: number;
  reader: RunReader;
}

export class Merger implements RowSource {
  private readonly heap: Heap<Head>;
  private waiting: Head | null = null;

  constructor(private readonly readers: RunReader[], compare: (a: unknown, b: unknown) => number) {
    this.heap = new Heap<Head>((a, b) => {
      const c = compare(a.row, b.row);
      return c < 0 || (c === 0 && a.run < b.run);
    });
  }

  /** Reads the first row of every run. */
  async start(): Promise<void> {
    const firsts = await Promise.all(this.readers.map((r) => r.next()));
    firsts.forEach((row, run) => {
      if (row !== undefined) this.heap.push({ row, run, reader: this.readers[run]! });
    });
  }

  take(): unknown | typeof PENDING | typeof END {
    if (this.waiting) return PENDING;
    const top = this.heap.peek();
    if (!top) return END;
    const out = top.row;
    const next = top.reader.nextBuffered();
    if (next) {
      top.row = next.row;
      this.heap.replaceTop(top);
    } else {
      this.heap.pop();
      this.waiting = top;
    }
    return out;
  }

  async refill(): Promise<void> {
    const head = this.waiting;
    if (!head) return;
    const row = await head.reader.next();
    this.waiting = null;
    if (row !== undefined) {
      head.row = row;
      this.heap.push(head);
    }
  }

  /** The merged rows in batches (for an intermediate pass written to a new run). */
  async *batches(size = 1024): AsyncGenerator<unknown[]> {
    let batch: unknown[] = [];
    for (;;) {
      const x = this.take();
      if (x === END) break;
      if (x === PENDING) {
        await this.refill();
        continue;
      }
      batch.push(x);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}

/** The rows of a run held in memory, decoded in sorted order (the in-memory case: nothing was spilled). */
export class RunSource<T> implements RowSource {
  private i = 0;
  constructor(private run: RunBuffer<T> | null, private readonly order: Uint32Array, private readonly reader: RecordReader) {}
  take(): unknown | typeof END {
    if (this.run === null || this.i >= this.order.length) {
      this.run = null; // handed on: no longer held here
      return END;
    }
    return this.run.row(this.order[this.i++]!, this.reader);
  }
  refill(): Promise<void> {
    return Promise.resolve();
  }
}
