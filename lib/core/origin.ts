/**
 * Where a row came from (source name and 1-based line), kept beside the row's own data so
 * user rows keep their exact shape (see OriginSlot), and collected with the row;
 * primitives have no origin.
 */

export interface Origin {
  /** The file name (or a description of the stream) the row was read from. */
  readonly source: string;
  /** 1-based line of the source where the row starts. */
  readonly line: number;
}

/** Hands `new` the row itself, so a subclass's private field is added to the row. */
class Carrier {
  constructor(row: object) {
    return row as Carrier;
  }
}

/**
 * The origin is a private field stamped onto the row (the constructor-return idiom): as
 * invisible as a WeakMap entry — no key, symbol or proxy trap sees it, so deep equality,
 * JSON, spreads and `Object.keys` are unchanged — but ~25 ns to set and read instead of
 * ~1 µs, paid by every stage that makes rows, and no ephemeron table for the garbage
 * collector to keep alive. It works on frozen rows and proxies too; the WeakMap is only a
 * fallback should an engine refuse a row.
 */
class OriginSlot extends Carrier {
  #origin: Origin | undefined;

  static set(row: object, origin: Origin): void {
    if (!(#origin in row)) new OriginSlot(row);
    (row as OriginSlot).#origin = origin;
  }

  static get(row: object): Origin | undefined {
    return #origin in row ? row.#origin : undefined;
  }
}

const fallback = new WeakMap<object, Origin>();
/** Whether `fallback` ever held a row: until then a row without a slot has no origin, no lookup needed (every fresh output row asks). */
let fallbackUsed = false;

const isKey = (row: unknown): row is object => typeof row === 'object' && row !== null;

export function setOrigin(row: unknown, origin: Origin): void {
  if (!isKey(row)) return;
  try {
    OriginSlot.set(row, origin);
  } catch {
    fallbackUsed = true;
    fallback.set(row, origin);
  }
}

export function originOf(row: unknown): Origin | undefined {
  if (!isKey(row)) return undefined;
  const origin = OriginSlot.get(row);
  return origin !== undefined || !fallbackUsed ? origin : fallback.get(row);
}

/** A stage that builds a new row from an old one passes the old one's origin on. */
export function inheritOrigin(from: unknown, to: unknown): void {
  if (isKey(to) && to !== from && originOf(to) === undefined) {
    const origin = originOf(from);
    if (origin) setOrigin(to, origin);
  }
}

export function describeOrigin(origin: Origin | undefined): string {
  return origin ? ` (${origin.source}, line ${origin.line})` : '';
}
