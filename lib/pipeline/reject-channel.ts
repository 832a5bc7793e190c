import { finished, type Writable } from 'node:stream';
import { RejectLimitError, toError } from '../core/errors.js';
import type { Reject, RejectDone } from '../core/reject.js';

/** Where `run()` sends rejected rows: a Writable (gets {@link RejectRecord}s) or a function. */
export type RejectTarget = Writable | NodeJS.WritableStream | ((reject: Reject) => void | PromiseLike<void>);

/** The flat, CSV-friendly record written to a rejects Writable. */
export interface RejectRecord {
  stage: string;
  reason: string;
  source: string;
  line: number | '';
  index: number;
  /** The row as JSON (bigints as strings). */
  row: string;
}

function toRecord(reject: Reject): RejectRecord {
  return {
    stage: reject.stage,
    reason: reject.reason,
    source: reject.origin?.source ?? '',
    line: reject.origin?.line ?? '',
    index: reject.index,
    row: JSON.stringify(reject.row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? '',
  };
}

/**
 * Receives the `'reject'` events of a pipeline's stages, counts them against `maxRejects`
 * and stores each before the stage goes on (a slow sink slows the stage, not memory).
 */
export class RejectChannel {
  count = 0;
  private failure: Error | null = null;

  constructor(private readonly target: RejectTarget | undefined, private readonly maxRejects: number) {
    if (target && typeof target !== 'function') {
      target.on('error', (error: Error) => {
        this.failure ??= error;
      });
    }
  }

  /** Listener for a stage's `'reject'` event. */
  readonly receive = (reject: Reject, done: RejectDone): void => {
    this.count++;
    if (this.count > this.maxRejects) {
      done(new RejectLimitError(this.maxRejects, reject.error));
      return;
    }
    const target = this.target;
    if (this.failure) {
      done(this.failure);
    } else if (typeof target === 'function') {
      let result: void | PromiseLike<void>;
      try {
        result = target(reject);
      } catch (error) {
        done(toError(error));
        return;
      }
      if (result && typeof result.then === 'function') result.then(() => done(), (error: unknown) => done(toError(error)));
      else done();
    } else if (target) {
      const writable = target as Writable;
      // A sink that already failed reports its own error, not a write-after-destroy.
      if (writable.destroyed) done(writable.errored ?? new Error('the rejects sink closed before the reject was written'));
      else if (target.write(toRecord(reject) as never)) done();
      else waitDrain(writable, done);
    }
  };

  get attached(): boolean {
    return this.target !== undefined;
  }

  /** Ends a Writable target and waits for it to flush (or destroys it when the run failed). */
  async close(failed: boolean): Promise<void> {
    const target = this.target;
    if (!target || typeof target === 'function') return;
    const writable = target as Writable;
    if (failed) {
      writable.destroy();
    } else {
      writable.end();
    }
    await new Promise<void>((resolve) => finished(writable, () => resolve()));
    if (this.failure && !failed) throw this.failure;
  }
}

function waitDrain(target: Writable, done: RejectDone): void {
  const onDrain = () => {
    target.off('close', onClose);
    done();
  };
  const onClose = () => {
    target.off('drain', onDrain);
    done(target.errored ?? new Error('the rejects sink closed before the reject was written'));
  };
  target.once('drain', onDrain);
  target.once('close', onClose);
}
