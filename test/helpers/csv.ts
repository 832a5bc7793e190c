/**
 * Sources, sinks and small promise helpers for the pipeline and CSV tests. (Operation
 * tests have their own helpers in streams.ts.)
 */
import { once } from 'node:events';
import { Readable, Writable, type Stream } from 'node:stream';
import { csv, originOf, type CsvParseOptions } from '../../lib/index.js';

import { rejectionOf } from './streams.js';

// The promise and stream helpers under the names the CSV tests use (one implementation).
export { closed, deferred, thrownBy as thrown } from './streams.js';

/** The error a promise rejects with (fails when it resolves), its fields readable: `line`, `code`, … */
export const rejection = (promise: Promise<unknown>): Promise<Error & Record<string, unknown>> =>
  rejectionOf(promise) as Promise<Error & Record<string, unknown>>;

/** A byte Readable that emits exactly these chunks, in order (strings are UTF-8 encoded). */
export function bytes(chunks: readonly (string | Buffer)[]): Readable {
  const queue = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c));
  return new Readable({
    read() {
      this.push(queue.length > 0 ? queue.shift() : null);
    },
  });
}

/** An object-mode Writable that keeps what it receives. */
export function collector<T = unknown>(): Writable & { rows: T[] } {
  const rows: T[] = [];
  const sink = new Writable({
    objectMode: true,
    write(row: T, _encoding, callback) {
      rows.push(row);
      callback();
    },
  });
  return Object.assign(sink, { rows });
}

/** A byte Writable that keeps the text it receives. */
export function textSink(): Writable & { text: () => string } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  return Object.assign(sink, { text: () => Buffer.concat(parts).toString('utf8') });
}

export interface Parsed {
  rows: unknown[];
  /** `originOf(row).line` of each row. */
  lines: (number | undefined)[];
  error: (Error & { line?: number }) | null;
}

/** Feeds `chunks` to `csv.parse(options)` and collects the rows, their lines and the error. */
export async function parseChunks(chunks: readonly (string | Buffer)[], options: CsvParseOptions = {}): Promise<Parsed> {
  const parser = csv.parse(options);
  const result: Parsed = { rows: [], lines: [], error: null };
  parser.on('data', (row: unknown) => {
    result.rows.push(row);
    result.lines.push(originOf(row)?.line);
  });
  const source = bytes(chunks);
  source.pipe(parser);
  try {
    await once(parser, 'end');
  } catch (error) {
    result.error = error as Error;
    source.destroy();
  }
  return result;
}

export const isClosed = (stream: Stream): boolean => (stream as unknown as { closed: boolean }).closed === true;

/** Deterministic pseudo-random numbers (mulberry32) so generated cases are reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
