import { AbortError } from '../core/errors.js';

/**
 * How `run()` and `pipe()` fail when their destination (an HTTP response, a socket) closed
 * before the pipeline finished: an AbortError whose cause says so, with Node's
 * ERR_STREAM_PREMATURE_CLOSE, when there was one, as that cause's own cause.
 */
export function destinationClosed(premature?: unknown): AbortError {
  const cause = premature ?? Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  return new AbortError(new Error('destination closed before the pipeline finished', { cause }));
}
