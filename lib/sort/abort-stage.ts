/**
 * An `AbortSignal` option for sort's stages: checked when the stage is made (an aborted
 * signal throws `AbortError` at once), then a `{ once: true }` listener destroys the stage
 * with `AbortError`; the returned function removes the listener (the stage's `_destroy`).
 */
import type { Duplex } from 'node:stream';
import { AbortError } from '../core/errors.js';
import { checkSignal } from '../core/validate.js';

/** Validates `signal` (option path `signal`); throws `AbortError` if it is already aborted. */
export function checkAbortSignal(value: unknown): AbortSignal | undefined {
  const signal = checkSignal('signal', value);
  if (signal?.aborted) throw new AbortError(signal.reason);
  return signal;
}

/** Destroys `stage` with `AbortError` when `signal` aborts; returns the listener's removal. */
export function destroyOnAbort(stage: Duplex, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const onAbort = (): void => {
    stage.destroy(new AbortError(signal.reason));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
