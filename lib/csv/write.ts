import { finished, Writable } from 'node:stream';
import { CSV_FORMAT_OPTIONS, CsvFormatStage, type CsvFormatOptions, type CsvRow } from './format.js';
import { FileWriter } from './file-writer.js';
import { takesBatches, writesTextRows, type HeaderSource } from '../core/fusion.js';
import { writtenRows } from '../core/stage.js';
import { checkOptions, fail, moreOptionNames, named } from '../core/validate.js';

/**
 * Bytes of each of a file target's two buffers: the next rows are formatted into one while
 * the other is written on libuv's thread pool, instead of waiting for each small write.
 */
const FILE_BUFFER = 1 << 20;

export interface CsvWriteOptions extends CsvFormatOptions {
  /** End the target Writable when done (a file path is always closed). @default true */
  end?: boolean;
  /** Object-mode high-water mark. @default 16 */
  highWaterMark?: number;
}

/** The option names csv.write() accepts: csv.format()'s and its own (an unknown one is a TypeError). */
const CSV_WRITE_OPTIONS = moreOptionNames<CsvWriteOptions, CsvFormatOptions>('csv.write()', CSV_FORMAT_OPTIONS, { end: true, highWaterMark: true });

/**
 * The sink: formats rows (as `csv.format` does) and writes them to a file or Writable. It finishes
 * only once the text is flushed and the file closed, so when `run()` resolves, the file
 * is complete. `rows` counts the rows written.
 */
export class CsvWriteSink extends Writable {
  /** Typed marker (as on a `Stage`): `run()` checks that the rows reaching it are CSV rows. Never set. */
  declare readonly __types?: { in: (row: CsvRow) => void; out: never };
  readonly stage: string;
  private readonly format: CsvFormatStage;
  private readonly output: NodeJS.WritableStream & Writable;
  private readonly endOutput: boolean;

  constructor(target: string | URL | NodeJS.WritableStream, options: CsvWriteOptions) {
    const { end, highWaterMark, ...formatOptions } = checkOptions('options', options, CSV_WRITE_OPTIONS) as CsvWriteOptions;
    super({ objectMode: true, ...(highWaterMark === undefined ? {} : { highWaterMark }) });
    const isPath = typeof target === 'string' || target instanceof URL;
    if (!isPath && (!target || typeof (target as Writable).write !== 'function')) fail('target', 'a path or a Writable', target);
    this.stage = `csv.write(${isPath ? String(target) : 'stream'})`;
    this.format = new CsvFormatStage(formatOptions, this.stage);
    this.output = (isPath ? new FileWriter(target, FILE_BUFFER) : target) as Writable;
    // Text stays text on its way to a file: the writer encodes it into buffers it reuses.
    if (isPath) this.format.setEncoding('utf8');
    this.endOutput = isPath || end !== false;
    this.format.on('error', (error) => this.destroy(error));
    this.output.on('error', (error: Error) => this.destroy(error));
    this.format.pipe(this.output, { end: this.endOutput });
  }

  get rows(): number {
    return this.format.stats.out;
  }

  /** For `run()`: the rows written (see `writtenRows`). */
  [writtenRows](): number {
    return this.format.stats.out;
  }

  /** Internal (lib/core/fusion.ts): see `CsvFormatStage.followHeaders`. */
  followHeaders(source: HeaderSource): void {
    this.format.followHeaders(source);
  }

  /** Internal (lib/core/fusion.ts): see `CsvFormatStage[writesTextRows]`. */
  [writesTextRows](): boolean {
    return this.format[writesTextRows]();
  }

  /** For `run()`: a batch of rows may be written as one chunk (see lib/core/fusion.ts). */
  readonly [takesBatches] = true;

  // Straight to the formatter's transform, past its writable side: a row, or a batch of
  // them that the formatter takes apart, one write at a time (this sink's own writable side
  // sees to that), held back while the text waits for the output.
  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.format._write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A file is complete once closed: finished() waits for 'close' where one will come.
    if (this.endOutput) finished(this.output, (error) => callback(error));
    else this.format.once('end', () => callback());
    this.format.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.format.destroy();
    const output = this.output as Writable & { closed?: boolean };
    if (!this.endOutput || output.closed) {
      callback(error);
      return;
    }
    output.once('close', () => callback(error));
    output.destroy();
  }
}

/**
 * Writes rows as CSV to a file path or Writable. The header is written even
 * when no row arrives if `headers` is given as an array.
 *
 * @example
 * csv.write('nj-ford-police.csv', { headers: ['vehicle_make', 'issuing_agency', 'address'] })
 */
export function csvWrite(target: string | URL | NodeJS.WritableStream, options: CsvWriteOptions = {}): CsvWriteSink {
  return named('csv.write()', () => new CsvWriteSink(target, options));
}
