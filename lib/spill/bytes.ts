import { fail } from '../core/validate.js';

/** Rough bytes a row holds on the V8 heap (for the byte budget): a measure, not a promise. */
export function estimateBytes(v: unknown, depth = 0): number {
  switch (typeof v) {
    // V8: a string is a 16-byte header plus its characters (rounded to 8), and the slot
    // pointing at it; a string cut from a larger one may hold that alive too (see docs).
    case 'string': return 32 + v.length * (v.length > 0 && v.charCodeAt(0) > 255 ? 2 : 1);
    case 'number': case 'boolean': case 'undefined': return 8;
    case 'bigint': return 16 + v.toString(16).length;
    case 'object': {
      if (v === null) return 8;
      if (v instanceof Date) return 32;
      if (Buffer.isBuffer(v)) return 96 + v.length;
      if (depth > 64) return 64;
      if (Array.isArray(v)) {
        let n = 32 + 8 * v.length;
        for (const item of v) n += estimateBytes(item, depth + 1);
        return n;
      }
      let n = 24;
      for (const k in v) n += 8 + k.length + estimateBytes((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default: return 32;
  }
}

/** Parses a byte budget: a number of bytes or '64MB', '512kB', '1GB' (powers of 1024). */
export function parseBytes(path: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 1) return Math.floor(value);
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
    if (m) {
      const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
      const n = Math.floor(Number(m[1]) * unit);
      if (n >= 1) return n;
    }
  }
  return fail(path, "a byte count from 1 and up or a size such as '64MB'", value);
}

/**
 * Moves `buffer`'s memory to a new, young ArrayBuffer (a transfer: no copy) that nothing
 * refers to, so the next young-generation collection frees it; the old buffer, likely in the
 * old generation, would hold it until a major collection (measured: 64 MB of dropped 1 MB
 * buffers freed after two scavenges this way, and not before the end otherwise). `buffer` is
 * detached: the caller must be sure nothing uses it, nor any view of it, not even a pending I/O.
 */
export function freeSoon(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] });
}
