import type { Duplex, Readable } from 'node:stream';

/**
 * Option checks shared by every factory. They run before any stream exists, and their
 * messages follow one shape (after p-map): Expected `path` to be …, got `value` (type).
 */

export function describe(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value).slice(1, -1)}\` (string)`;
  if (typeof value === 'function') return `\`${value.name || 'anonymous'}\` (function)`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === null) return '`null`';
  if (typeof value === 'object') return 'an object';
  return `\`${String(value)}\` (${typeof value})`;
}

export function fail(path: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected \`${path}\` to be ${expected}, got ${describe(value)}`);
}

export function checkInteger(path: string, value: unknown, min: number, allowInfinity = false): number {
  if (allowInfinity && value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(path, `an integer from ${min} and up${allowInfinity ? ' (or Infinity)' : ''}`, value);
  }
  return value;
}

export function checkFunction<F extends (...args: never[]) => unknown>(path: string, value: unknown): F {
  if (typeof value !== 'function') fail(path, 'a function', value);
  return value as F;
}

export function checkOptions(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'an object', value);
  return value as Record<string, unknown>;
}

export function checkOneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) fail(path, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

export function checkSignal(path: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) fail(path, 'an AbortSignal', value);
  return value;
}

export function checkHighWaterMark(path: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkInteger(path, value, 1);
}

/** `csv.read(data/x.csv)` → `csv.read()`: a stage's name as the user called it. */
export const calledAs = (stage: string): string => stage.replace(/\(.*\)$/s, '()');

/**
 * For a stage that takes bytes or text (csv.parse): rows piped into it — in a plain
 * stream.pipeline, `csv.read(f)` then `csv.parse()` — would make Node throw
 * ERR_INVALID_ARG_TYPE out of the pipe, uncaught, naming an internal class. Instead the
 * stage fails at once with what went wrong in the user's terms (`run()` and `pipe()` say
 * the same before anything runs), and the pipeline rejects with it.
 */
export function refuseRowsPipedIn(stage: Duplex & { readonly stage: string }): void {
  stage.on('pipe', (source: Readable) => {
    if (!source.readableObjectMode) return;
    source.unpipe(stage);
    const from = typeof (source as { stage?: unknown }).stage === 'string' ? `rows from ${calledAs((source as unknown as { stage: string }).stage)}` : 'objects from a stream in object mode';
    stage.destroy(new TypeError(`${calledAs(stage.stage)} expects bytes or text, got ${from}`));
  });
}
