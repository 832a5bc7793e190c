/**
 * The size estimate `batchBytes` is measured in, taken once per row as it joins a batch:
 * string lengths, a view's byte length, 8 for any other value, plus each object key's
 * length. The same walk notes whether any row so far held a value other than a primitive,
 * an array or a plain object (a Buffer, a Date, a Map, …): until one has, no batch can hold
 * a Buffer and packing skips looking for one (packing.ts), which for rows of strings is
 * the second walk over every value it would otherwise be. Pure but for that note.
 */

export class RowSizer {
  /** Whether a row so far held a value that is not a primitive, an array or a plain object. */
  sawOther = false;

  readonly bytes = (row: unknown): number => {
    if (typeof row === 'string') return row.length;
    if (typeof row !== 'object' || row === null) return 8;
    let bytes = 8;
    if (Array.isArray(row)) {
      for (let i = 0; i < row.length; i++) bytes += this.bytes(row[i]);
      return bytes;
    }
    const proto = Object.getPrototypeOf(row) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      this.sawOther = true;
      return ArrayBuffer.isView(row) ? bytes + row.byteLength : bytes;
    }
    for (const key in row) bytes += key.length + this.bytes((row as Record<string, unknown>)[key]);
    return bytes;
  };
}
