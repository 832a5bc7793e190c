/**
 * How a batch of rows crosses a thread: measured (bench/parallel.ts, 43-column string rows,
 * 1,000-row batches) against a length-prefixed packed string and a packed UTF-8 buffer
 * transferred, the structured clone of the rows array was as fast or faster, and it keeps
 * every value type exactly (strings, -0, NaN, ±Infinity, bigints, Dates, nested JSON,
 * `__proto__` keys) — except Buffers, which arrive as plain Uint8Arrays. A batch holding a
 * Buffer anywhere is therefore sent serialized with `v8.serialize` (whose Node serializer
 * restores Buffers), its bytes transferred rather than copied. Rows that are their CSV line
 * (raw-rows.ts) cross cheaper still, as the batch's lines joined into one string (`lines`):
 * the clone of one string instead of one per field; the other rows of such a batch ride
 * beside it as a clone. Pure; used on both sides.
 */
import { deserialize, serialize } from 'node:v8';

export type Packed =
  | { readonly kind: 'clone'; readonly rows: unknown[] }
  | { readonly kind: 'v8'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'lines';
      /** The lines of the rows that are lines, in order, joined by LF (which no line holds). */
      readonly text: string;
      /** What splits a line back into its row's fields (no field holds it). */
      readonly delimiter: string;
      /** The batch's other rows, and their places in the batch (ascending). */
      readonly others: unknown[];
      readonly at: number[];
    };

/** A batch's rows that are their CSV line (raw-rows.ts): the lines, their delimiter, and the places of the rows that are not. */
export interface BatchLines {
  readonly texts: readonly string[];
  readonly delimiter: string;
  readonly others: readonly number[];
}

/** Whether a Buffer appears in `value` (looked for inside arrays and plain objects). */
function holdsBuffer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Buffer.isBuffer(value)) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (typeof value[i] === 'object' && holdsBuffer(value[i])) return true;
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    if (value instanceof Map) return holdsBuffer([...value.keys(), ...value.values()]);
    if (value instanceof Set) return holdsBuffer([...value]);
    return false;
  }
  for (const key in value) if (holdsBuffer((value as Record<string, unknown>)[key])) return true;
  return false;
}

/**
 * Packs rows for `postMessage`; `transfer` lists what may be moved instead of copied.
 * `mayHoldBuffer` false says the rows are known to hold only primitives, arrays and plain
 * objects (see row-size.ts), so there is no Buffer to look for.
 */
export function pack(rows: unknown[], mayHoldBuffer = true, lines?: BatchLines): { packed: Packed; transfer: ArrayBuffer[] } {
  if (lines !== undefined && lines.texts.length > 0) {
    const others = lines.others.map((at) => rows[at]);
    if (!mayHoldBuffer || !holdsBuffer(others)) {
      return { packed: { kind: 'lines', text: lines.texts.join('\n'), delimiter: lines.delimiter, others, at: lines.others as number[] }, transfer: [] };
    }
  }
  if (!mayHoldBuffer || !holdsBuffer(rows)) return { packed: { kind: 'clone', rows }, transfer: [] };
  const bytes = serialize(rows);
  // A small Buffer may share Node's pool; copy it into an ArrayBuffer of its own to move it.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes);
  return { packed: { kind: 'v8', bytes: own }, transfer: [own.buffer as ArrayBuffer] };
}

export function unpack(packed: Packed): unknown[] {
  if (packed.kind === 'clone') return packed.rows;
  if (packed.kind === 'v8') return deserialize(packed.bytes) as unknown[];
  const { delimiter, others, at } = packed;
  const texts = packed.text.split('\n');
  const rows: unknown[] = [];
  for (let line = 0, other = 0; line < texts.length || other < others.length; ) {
    if (other < others.length && at[other] === rows.length) rows.push(others[other++]);
    else rows.push(texts[line++].split(delimiter));
  }
  return rows;
}
