import type { Readable, TransformCallback } from 'node:stream';
import { FileChunks } from './file-chunks.js';
import { CsvParseStage, checkParseOptions, type CsvParseOptions } from './parse.js';
import { CSV_PARSE_OPTIONS } from './parse-options.js';
import { checkInteger, checkOptions, fail, moreOptionNames, named } from '../core/validate.js';

export interface CsvReadOptions extends CsvParseOptions {
  /** Bytes per read from a file. @default 65536 */
  chunkSize?: number;
}

/** The option names csv.read() accepts: csv.parse()'s and its own (an unknown one is a TypeError). */
export const CSV_READ_OPTIONS = moreOptionNames<CsvReadOptions, CsvParseOptions>('csv.read()', CSV_PARSE_OPTIONS, { chunkSize: true });

/**
 * The rows of a CSV file (or byte stream) as the parser's Readable side. The parser owns
 * its input: destroying it (early stop, error, `break`) destroys the input and waits for
 * the file to close, and its end waits for the same, so no descriptor outlives the stage.
 */
class CsvReadStage<Row> extends CsvParseStage<Row> {
  private piped = false;
  /** It reads its own input: `take(n)` in a plain stream.pipeline may end it early (see lib/operations/take.ts). */
  readonly selfFed = true;

  constructor(private readonly input: Readable, options: CsvParseOptions) {
    super(options, 'csv.read');
    input.on('error', (error) => this.destroy(error));
  }

  /** The file's size in bytes once it is open (a path read); undefined for a stream. */
  get bytesTotal(): number | undefined {
    return this.input instanceof FileChunks ? this.input.size : undefined;
  }

  // The input is piped in on the first read of the rows, not at creation: a file is opened
  // only once the pipeline runs, and a stage that never runs holds nothing.
  override _read(size: number): void {
    if (!this.piped) {
      this.piped = true;
      this.input.pipe(this);
    }
    super._read(size);
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    super._transform(chunk, encoding, callback);
    // The chunk is copied or decoded by now, unless the parser waits for its reader to load
    // (it calls this again then): its file reader may read into its buffer again.
    if (this.input instanceof FileChunks && this.readerReady) this.input.release(chunk as Buffer);
  }

  override _flush(callback: (error?: Error | null, data?: unknown) => void): void {
    this.whenClosed(() => super._flush(callback));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.input.unpipe(this);
    if (!this.input.destroyed) this.input.destroy();
    this.whenClosed(() => super._destroy(error, callback));
  }

  /** Runs `then` once the input has closed — at once if it never will (no autoDestroy/emitClose). */
  private whenClosed(then: () => void): void {
    const input = this.input as Readable & { closed?: boolean; _readableState?: { emitClose?: boolean; autoDestroy?: boolean } };
    const state = input._readableState;
    const willClose = state?.emitClose !== false && (input.destroyed || state?.autoDestroy !== false);
    if (input.closed || !willClose) then();
    else input.once('close', then);
  }
}

/**
 * Reads a CSV file (a path) or byte stream, one row at a time (see `csv.parse` for the parser). Rows are
 * arrays of strings by default; `rows: 'objects'` keys them by the header. Each row keeps
 * its source file and line for errors and rejects (`originOf(row)`).
 *
 * @example
 * csv.read('parking.csv')                        // ['1234', 'ABC123', 'NJ', …], header consumed
 * csv.read('parking.csv', { rows: 'objects' })   // { 'Summons Number': '1234', … }
 */
export function csvRead<Row = Record<string, string>>(input: string | URL | Readable, options: CsvReadOptions & { rows: 'objects' }): CsvParseStage<Row>;
export function csvRead<Row = string[]>(input: string | URL | Readable, options?: CsvReadOptions): CsvParseStage<Row>;
export function csvRead<Row = string[]>(input: string | URL | Readable, options: CsvReadOptions = {}): CsvParseStage<Row> {
  return named('csv.read()', () => {
    const { chunkSize, ...parseOptions } = checkOptions('options', options, CSV_READ_OPTIONS) as CsvReadOptions;
    const highWaterMark = chunkSize === undefined ? 65_536 : checkInteger('chunkSize', chunkSize, 1);
    if (typeof input === 'string' || input instanceof URL) {
      // Check every option before the file is opened: a TypeError must not leak a descriptor.
      checkParseOptions({ source: String(input), ...parseOptions });
      const stream = new FileChunks(input, highWaterMark);
      return new CsvReadStage<Row>(stream, { source: String(input), ...parseOptions });
    }
    if (!input || typeof (input as Readable).pipe !== 'function') fail('input', 'a path or a Readable', input);
    return new CsvReadStage<Row>(input, { source: 'stream', ...parseOptions });
  });
}
