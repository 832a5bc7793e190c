/**
 * The batch parallel.map is filling. A row joins it with its size: a row that is its CSV
 * line (raw-rows.ts) weighs that line's length and joins the batch's lines, so packing.ts
 * can send those rows as one string; any other row weighs what row-size.ts says. Pure.
 *
 * Invariants: a batch is closed when the next row would take it past `maxBytes` (that row
 * starts the next one) or once it reaches `maxBytes` or `maxRows`; a closed batch is never empty, and
 * passes `maxBytes` only when a single row does (that row then travels alone). The lines of
 * a batch share one delimiter: a line row with another one joins as an other row.
 */
import type { BatchLines } from './packing.js';
import { rawLineOf } from './raw-rows.js';

export interface FilledBatch<In> {
  readonly rows: In[];
  readonly lines: BatchLines;
}

const NONE: readonly never[] = Object.freeze([]);

export class FillingBatch<In> {
  /** At most this many rows a batch, besides `maxBytes` (the stage lowers it for a slow function). */
  maxRows = Infinity;
  private rows: In[] = [];
  private texts: string[] = [];
  private delimiter = '';
  private others: number[] = [];
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (row: In) => number,
  ) {}

  /** Adds a row; returns the batches that closed (none, the one it did not fit into, and perhaps itself). */
  add(row: In): readonly FilledBatch<In>[] {
    // Most rows close no batch: they get the shared empty list, not an array each.
    let closed: FilledBatch<In>[] | null = null;
    const raw = rawLineOf(row);
    const bytes = raw === undefined ? this.sizeOf(row) : raw.text.length;
    if (this.rows.length > 0 && this.bytes + bytes > this.maxBytes) closed = [this.take()];
    if (raw !== undefined && (this.texts.length === 0 || raw.delimiter === this.delimiter)) {
      this.delimiter = raw.delimiter;
      this.texts.push(raw.text);
    } else {
      this.others.push(this.rows.length);
    }
    this.rows.push(row);
    this.bytes += bytes;
    if (this.bytes >= this.maxBytes || this.rows.length >= this.maxRows) (closed ??= []).push(this.take());
    return closed ?? NONE;
  }

  /** The open batch, closed (end of input); undefined when it is empty. */
  close(): FilledBatch<In> | undefined {
    return this.rows.length === 0 ? undefined : this.take();
  }

  /** Drops the open batch (on destroy). */
  clear(): void {
    this.take();
  }

  private take(): FilledBatch<In> {
    const batch = { rows: this.rows, lines: { texts: this.texts, delimiter: this.delimiter, others: this.others } };
    this.rows = [];
    this.texts = [];
    this.others = [];
    this.bytes = 0;
    return batch;
  }
}
