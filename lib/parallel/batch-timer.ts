/**
 * The `timeout` of one batch run: it counts from when the worker starts the batch, which
 * the worker stamps into a slot of shared memory (BatchTask.started), not from when the
 * stage sent it — a batch may wait in line behind its worker's previous one for as long as
 * that one runs, and a worker's first batch waits for the module to load. The stage's timer checks the slot: while the batch has not started it looks
 * again every quarter of `timeout`; once it has, it fires `timeout` after the stamp (so a
 * hang is caught between `timeout` and 1.25 × `timeout` after its batch started).
 *
 * Invariant: at most one timer is pending, and none after `stop()` or `onExpire`.
 */

const now = (): number => performance.timeOrigin + performance.now();
/** setTimeout's longest delay; a longer wait is taken in steps. */
const LONGEST = 2 ** 31 - 1;

export class BatchTimer {
  /** What the worker stamps: µs of `performance.timeOrigin + performance.now()`, 0 until it starts. */
  readonly started = new BigInt64Array(new SharedArrayBuffer(8));
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeout: number,
    private readonly onExpire: () => void,
  ) {
    this.arm(timeout);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, Math.min(Math.max(1, Math.ceil(ms)), LONGEST));
  }

  private readonly check = (): void => {
    this.timer = null;
    const stamp = Atomics.load(this.started, 0);
    if (stamp === 0n) {
      this.arm(this.timeout / 4);
      return;
    }
    const left = Number(stamp) / 1000 + this.timeout - now();
    if (left > 0) this.arm(left);
    else this.onExpire();
  };
}
