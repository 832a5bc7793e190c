import type { Origin } from './origin.js';

/** A row that a stage set aside instead of failing the pipeline. */
export interface Reject {
  /** The stage that rejected the row, e.g. `map(addDays)` or `csv.read(in.csv)`. */
  readonly stage: string;
  /** Why, in one line (the error's message). */
  readonly reason: string;
  /** The error itself. */
  readonly error: Error;
  /** The row as it reached the stage. */
  readonly row: unknown;
  /** 1-based number of the row within the rows that reached the stage. */
  readonly index: number;
  /** Source name and line, when known. */
  readonly origin?: Origin;
}

/** Called by the receiver once the reject is safely stored; an error fails the stage. */
export type RejectDone = (error?: Error | null) => void;

/**
 * Hands a reject to whoever listens for `'reject'` on the stage and waits for it to be
 * stored, so a slow reject sink slows the stage (backpressure) instead of buffering.
 * A stage that nobody listens to fails instead: a rejected row is never dropped unseen.
 */
export function sendReject(stage: NodeJS.EventEmitter, reject: Reject, done: RejectDone): void {
  if (stage.listenerCount('reject') === 0) {
    const error = new Error(
      `${reject.error.message} — the row was to be rejected, but nothing receives rejects ` +
        `(pass \`rejects\` to run() or listen for 'reject' on the stage)`,
      { cause: reject.error },
    );
    done(error);
    return;
  }
  stage.emit('reject', reject, done);
}
