/**
 * Where a row came from (source name and 1-based line), kept beside the row instead of
 * inside it so user rows keep their exact shape. Keys are the row objects themselves, so
 * the entry is collected with the row; primitives have no origin.
 */

export interface Origin {
  /** The file name (or a description of the stream) the row was read from. */
  readonly source: string;
  /** 1-based line of the source where the row starts. */
  readonly line: number;
}

const origins = new WeakMap<object, Origin>();

const isKey = (row: unknown): row is object => typeof row === 'object' && row !== null;

export function setOrigin(row: unknown, origin: Origin): void {
  if (isKey(row)) origins.set(row, origin);
}

export function originOf(row: unknown): Origin | undefined {
  return isKey(row) ? origins.get(row) : undefined;
}

/** A stage that builds a new row from an old one passes the old one's origin on. */
export function inheritOrigin(from: unknown, to: unknown): void {
  if (isKey(to) && to !== from && !origins.has(to)) {
    const origin = originOf(from);
    if (origin) origins.set(to, origin);
  }
}

export function describeOrigin(origin: Origin | undefined): string {
  return origin ? ` (${origin.source}, line ${origin.line})` : '';
}
