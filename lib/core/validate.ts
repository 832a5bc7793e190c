import type { Duplex, Readable } from 'node:stream';

/**
 * Option checks shared by every factory. They run before any stream exists, and their
 * messages follow one shape (after p-map): Expected `path` to be …, got `value` (type), and
 * each public factory runs its checks under `named`, so the message names it:
 * `csv.read(): expected \`rows\` to be …`.
 */

export function describe(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value).slice(1, -1)}\` (string)`;
  if (typeof value === 'function') return `\`${value.name || 'anonymous'}\` (function)`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === null) return '`null`';
  if (typeof value === 'object') return 'an object';
  return `\`${String(value)}\` (${typeof value})`;
}

/** The message of an option check's TypeError before `named` prefixed it: marks the errors to prefix. */
const bareMessage = Symbol('sluice.bareMessage');

/** A TypeError of an option check (`Expected \`x\` to be …`), which `named` prefixes with its factory. */
export function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { [bareMessage]: message });
}

export function fail(path: string, expected: string, value: unknown): never {
  throw invalid(`Expected \`${path}\` to be ${expected}, got ${describe(value)}`);
}

/**
 * Runs a factory's checks so that their messages name it:
 * `take(): expected \`count\` to be an integer from 0 and up, got \`-1\` (number)`.
 * Nested, the outermost name wins (a factory built on another names itself, the one the
 * user called). Unknown-option errors already name their factory and are left as they are.
 */
export function named<T>(factory: string, checks: () => T): T {
  try {
    return checks();
  } catch (error) {
    const bare = error instanceof TypeError ? (error as TypeError & { [bareMessage]?: string })[bareMessage] : undefined;
    // `Expected …` reads on as `expected …`; a name (`JOB_COMPLETION_INDEX is set …`) keeps its case.
    if (bare !== undefined) (error as TypeError).message = `${factory}: ${/^[A-Z][a-z]/.test(bare) ? bare[0].toLowerCase() + bare.slice(1) : bare}`;
    throw error;
  }
}

/**
 * Calls the user's own code from inside a factory's checks (`run(() => makeSource())`):
 * what it throws keeps the name it has (a `csv.read()` in it stays `csv.read()`).
 */
export function callUser<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof TypeError) delete (error as TypeError & { [bareMessage]?: string })[bareMessage];
    throw error;
  }
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

/**
 * The option names a factory accepts, declared once next to its options interface:
 * `optionNames<TakeOptions>('take()', { highWaterMark: true })`. The object must list every
 * field of the interface (TypeScript refuses it otherwise), so an option added to the
 * interface is added here too, and `checkOptions` then accepts it.
 */
export interface OptionNames {
  /**
   * The factory as the user calls it, for messages: `csv.read()`. For an object nested in a
   * factory's options, its path instead (`rate.adaptive`): an unknown option there is named
   * by the factory around it (`named`): `callService(): unknown option 'x' in \`rate\` (…)`.
   */
  readonly factory: string;
  readonly names: readonly string[];
}

export function optionNames<T>(factory: string, names: { readonly [K in keyof Required<T>]: true }): OptionNames {
  return { factory, names: Object.keys(names) };
}

/** The same names under another factory, plus some (`csv.read()` = `csv.parse()`'s and `chunkSize`). */
export function moreOptionNames<T, Base>(factory: string, base: OptionNames, more: { readonly [K in Exclude<keyof Required<T>, keyof Base>]: true }): OptionNames {
  return { factory, names: [...new Set([...base.names, ...Object.keys(more)])] };
}

/**
 * An options object (undefined counts as `{}`). With `known`, every own key must be one of
 * its names: `csv.read(): unknown option 'row' (did you mean 'rows'?)`.
 */
export function checkOptions(path: string, value: unknown, known?: OptionNames): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'an object', value);
  if (known) {
    for (const key of Object.keys(value)) {
      if (known.names.includes(key)) continue;
      const near = nearest(key, known.names);
      const hint = near === null ? `known: ${known.names.map((n) => `'${n}'`).join(', ')}` : `did you mean '${near}'?`;
      if (known.factory.endsWith(')')) throw new TypeError(`${known.factory}: unknown option '${key}' (${hint})`);
      throw invalid(`unknown option '${key}' in \`${known.factory}\` (${hint})`);
    }
  }
  return value as Record<string, unknown>;
}

/** The name closest to `word` (case ignored) within a small edit distance, or null. */
export function nearest(word: string, names: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const name of names) {
    const n = name.toLowerCase();
    const d = n === w ? 0 : n.startsWith(w) || w.startsWith(n) || sharedStart(n, w) ? Math.min(2, Math.abs(n.length - w.length) || 1) : editDistance(w, n);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return bestDistance <= Math.max(2, Math.floor(w.length / 3)) ? best : null;
}

/** Whether two words start alike for most of the shorter one (`comparator`, `compare`). */
function sharedStart(a: string, b: string): boolean {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i >= Math.max(4, Math.ceil(0.6 * Math.min(a.length, b.length)));
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
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
 * For a stage that takes bytes or text (csv.parse): rows written into it — in a plain
 * stream.pipeline, `csv.read(f)` then `csv.parse()` — would make Node throw
 * ERR_INVALID_ARG_TYPE out of the pipe, uncaught, naming an internal class. Instead the
 * stage fails with what went wrong in the user's terms (`run()` and `pipe()` say the same
 * before anything runs), and the pipeline rejects with it. Strings and buffers from an
 * object-mode stream (`Readable.from([text])`) are still taken.
 */
export function refuseRowsPipedIn(stage: Duplex & { readonly stage: string }): void {
  let from = 'an object';
  stage.on('pipe', (source: Readable) => {
    const name = (source as { stage?: unknown }).stage;
    from = typeof name === 'string' ? `rows from ${calledAs(name)}` : 'objects from a stream in object mode';
  });
  const write = stage.write as (chunk: unknown, ...rest: unknown[]) => boolean;
  stage.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    if (chunk !== null && typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      stage.destroy(new TypeError(`${calledAs(stage.stage)} expects bytes or text, got ${from}`));
      return false;
    }
    return write.call(this, chunk, ...rest);
  } as Duplex['write'];
}
