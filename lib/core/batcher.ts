/**
 * The batch being filled, for `batch()` and `callService()`: rows go in, and a batch is
 * closed when it reaches `size` rows, would pass `maxBytes`, its first row has waited
 * `maxWaitMs`, or the input ends — whichever comes first. Pure except for the one timer,
 * which exists only while a non-empty batch is open (so nothing is left behind).
 *
 * Invariants: an open batch is never empty while its timer runs and never holds `size`
 * rows; a closed batch is never empty; a batch passes `maxBytes` only when a single row
 * does (that row then travels alone: splitting a row is not ours to do).
 */

/** Why a batch was closed. */
export type FlushReason = 'size' | 'bytes' | 'time' | 'end';

/** How many batches were closed for each reason. */
export type FlushCounts = Record<FlushReason, number>;

export interface ClosedBatch<T> {
  readonly rows: T[];
  readonly reason: FlushReason;
  /** Estimated bytes of the rows (0 when `maxBytes` is not set). */
  readonly bytes: number;
}

export interface BatchLimits<T> {
  size: number;
  maxBytes?: number;
  maxWaitMs?: number;
  sizeOf?: (row: T) => number;
}

/**
 * The default size of a row: its UTF-8 length as JSON plus one (the comma between rows
 * of a JSON array body), the measure a service's request limit is usually about.
 */
export function jsonBytes(row: unknown): number {
  const text = JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  return (text === undefined ? 4 : Buffer.byteLength(text)) + 1;
}

const noFlushes = (): FlushCounts => ({ size: 0, bytes: 0, time: 0, end: 0 });

export class Batcher<T> {
  private rows: T[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  readonly flushes: FlushCounts = noFlushes();
  private readonly size: number;
  private readonly maxBytes: number;
  private readonly maxWaitMs: number;
  private readonly sizeOf: (row: T) => number;

  /** `onTime` is called when the open batch has waited `maxWaitMs` (never while empty). */
  constructor(limits: BatchLimits<T>, private readonly onTime: () => void = () => {}) {
    this.size = limits.size;
    this.maxBytes = limits.maxBytes ?? Infinity;
    this.maxWaitMs = limits.maxWaitMs ?? Infinity;
    this.sizeOf = limits.sizeOf ?? jsonBytes;
  }

  /** Rows in the open batch. */
  get length(): number {
    return this.rows.length;
  }

  /** The open batch's rows so far (do not change them). */
  get open(): readonly T[] {
    return this.rows;
  }

  /**
   * Adds a row and returns the batches that this closed, oldest first: none, the full one,
   * or (bytes) the one the row did not fit into and perhaps the row on its own.
   */
  add(row: T): ClosedBatch<T>[] {
    const closed: ClosedBatch<T>[] = [];
    let bytes = 0;
    if (this.maxBytes !== Infinity) {
      bytes = this.sizeOf(row);
      if (typeof bytes !== 'number' || !(bytes >= 0)) throw new TypeError(`sizeOf returned ${String(bytes)}, not a number of bytes`);
      if (this.rows.length > 0 && this.bytes + bytes > this.maxBytes) closed.push(this.take('bytes'));
    }
    if (this.rows.length === 0) this.startTimer();
    this.rows.push(row);
    this.bytes += bytes;
    if (this.rows.length >= this.size) closed.push(this.take('size'));
    else if (this.bytes >= this.maxBytes) closed.push(this.take('bytes'));
    return closed;
  }

  /** Closes the open batch (time or end of input); undefined when it is empty. */
  close(reason: FlushReason): ClosedBatch<T> | undefined {
    return this.rows.length === 0 ? undefined : this.take(reason);
  }

  /** Stops the timer and drops the open batch (on destroy). */
  clear(): void {
    this.stopTimer();
    this.rows = [];
    this.bytes = 0;
  }

  private take(reason: FlushReason): ClosedBatch<T> {
    this.stopTimer();
    const batch = { rows: this.rows, reason, bytes: this.bytes };
    this.rows = [];
    this.bytes = 0;
    this.flushes[reason]++;
    return batch;
  }

  private startTimer(): void {
    if (this.maxWaitMs === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onTime();
    }, this.maxWaitMs);
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
