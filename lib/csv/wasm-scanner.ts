/**
 * The WebAssembly CSV boundary scanner (kernel: assembly/csv-scan.ts, built by `npm run build`
 * into `wasm/csv-scan.wasm` beside this file). It finds where fields and rows end in UTF-8
 * bytes — RFC 4180 quoting, LF, CR and CRLF, a leading byte-order mark — without decoding
 * anything; the caller decodes only the fields it uses (wasm-rows.ts, for csv.parse); the JS
 * scanner (scanner.ts) stays the reference and the fallback.
 *
 * Entries (an `Int32Array` view into the module's memory, valid until the next call), as
 * offsets into the bytes given to `scan`:
 * - `e >= 0`: a field ends at `e` (a delimiter or the first byte of a line break is there);
 * - `e < 0`: the row ends; the next row starts at `~e`.
 * A row's fields run from its start to its first entry, then from each entry + 1 to the next.
 * `rowEnds` lists the index of each row-end entry, so a reader can go straight to the fields
 * it wants and take a row's width as the difference of two indexes.
 * A negative result `~count` from `scan`/`finish` means "fallback": the entries up to the
 * last row end hold; the row after it has a quote this kernel does not read (one opening
 * after a field's first byte, text after a closing quote, or a quote left open at the end),
 * and goes to the JS scanner, after which `reset()` resumes the kernel at a row start.
 *
 * Memory: one module instance per scanner, with fixed memory that never grows, so the views
 * stay valid; a chunk larger than `capacity` is given in pieces.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callerFile } from '../core/caller-file.js';

/** The slice of the `WebAssembly` global used here (the project's `lib` has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
type WasmModule = { readonly kind: 'WebAssembly.Module' };
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernel {
  memory: { buffer: ArrayBuffer };
  capacity(): number;
  input(): number;
  output(): number;
  rowEnds(): number;
  rowCount(): number;
  bom(): number;
  init(delimiter: number, quote: number, stripBom: number): void;
  reset(): void;
  scan(length: number, base: number): number;
  finish(base: number): number;
  wanted(): number;
  project(count: number, withDrops: number): number;
  stride(): number;
  conditions(): number;
  conditionBytes(): number;
  dropWidth(width: number): void;
  droppedTail(): number;
  droppedEnd(): number;
  consumed(): number;
  rebase(shift: number): void;
  scanProjected(length: number, base: number): number;
  finishProjected(base: number): number;
}

/** The most field indexes a projected scan keeps, and the bound on each (see `project`). */
export const PROJECTED_FIELDS = 16;
export const PROJECTED_INDEX_LIMIT = 255;

/** The compiled module, or null when it was not built (undefined: not looked for yet). */
let compiled: WasmModule | null | undefined;

function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    // Beside this file, or beside the bundle this file was bundled into.
    const own = callerFile();
    const file = join(dirname(own.startsWith('file:') ? fileURLToPath(own) : own), 'wasm/csv-scan.wasm');
    compiled = existsSync(file) ? new wasm.Module(readFileSync(file)) : null;
  }
  return compiled;
}

/** The dialect the kernel reads: one ASCII byte each, the quote escaping itself (RFC 4180). */
export interface WasmDialect {
  delimiter: string;
  quote: string;
  escape: string;
}

/** Whether the kernel cannot read this dialect. */
function unsupported({ delimiter, quote, escape }: WasmDialect): boolean {
  const ascii = (s: string): boolean => s.length === 1 && s.charCodeAt(0) < 0x80 && s !== '\r' && s !== '\n';
  return !ascii(delimiter) || !ascii(quote) || escape !== quote || delimiter === quote;
}

export class WasmCsvScanner {
  /** The most bytes one `scan` call takes. */
  readonly capacity: number;
  private readonly kernel: Kernel;
  private readonly input: Uint8Array;
  private readonly output: Int32Array;
  private readonly rows: Int32Array;
  /** Whether the projected scan drops rows (see `project`). */
  private dropping = false;

  /**
   * A scanner for one input, or null when the module is not built or cannot read the dialect
   * (then use the JS scanner).
   * @param dialect - the delimiter, quote and escape characters
   * @param stripBom - whether a byte-order mark at the start of the input is skipped (see `bom`)
   * @example
   * const scanner = WasmCsvScanner.create({ delimiter: ',', quote: '"', escape: '"' });
   */
  static create(dialect: WasmDialect, stripBom = true): WasmCsvScanner | null {
    const module = unsupported(dialect) ? null : kernelModule();
    return module ? new WasmCsvScanner(module, dialect, stripBom) : null;
  }

  private constructor(module: WasmModule, dialect: WasmDialect, stripBom: boolean) {
    this.kernel = new wasm.Instance(module, {}).exports as unknown as Kernel;
    const buffer = this.kernel.memory.buffer;
    this.capacity = this.kernel.capacity();
    this.input = new Uint8Array(buffer, this.kernel.input(), this.capacity);
    this.output = new Int32Array(buffer, this.kernel.output(), 2 * this.capacity + 2);
    this.rows = new Int32Array(buffer, this.kernel.rowEnds(), this.capacity + 2);
    this.kernel.init(dialect.delimiter.charCodeAt(0), dialect.quote.charCodeAt(0), stripBom ? 1 : 0);
  }

  /** The entries of the last `scan`/`finish` (a view: read them before the next call). */
  get entries(): Int32Array {
    return this.output;
  }

  /** The index in `entries` of each row end of the last call (a view, like `entries`). */
  get rowEnds(): Int32Array {
    return this.rows;
  }

  /** How many row ends the last `scan`/`finish` wrote (the valid part of `rowEnds`). */
  get rowCount(): number {
    return this.kernel.rowCount();
  }

  /**
   * 3 when the input began with a byte-order mark (its first row starts there), else 0.
   * Known once the first entry is written (a mark's bytes are never entries).
   */
  get bom(): number {
    return this.kernel.bom();
  }

  /**
   * Scans `bytes[from, to)` (at most `capacity` bytes; the next bytes of the input). Returns
   * the number of entries (offsets into `bytes`), or `~count` when the row after the last row
   * end needs the JS scanner.
   */
  scan(bytes: Uint8Array, from: number, to: number): number {
    this.copyIn('scan', bytes, from, to);
    return this.kernel.scan(to - from, from);
  }

  /** The end of the input, `end` its offset in the last bytes given: ends an unterminated last row. */
  finish(end: number): number {
    return this.kernel.finish(end);
  }

  /**
   * Switches to the projected scan (`scanProjected`): the kernel keeps only the fields at
   * `indexes` (ascending, distinct, at most PROJECTED_FIELDS of them, each below
   * PROJECTED_INDEX_LIMIT). Returns false when it cannot. With `conditions` (FieldTests'
   * `encoded`, slots as ordinals among `indexes`) that fit the kernel, it drops rows too: see
   * `dropWidth`.
   */
  project(indexes: readonly number[], conditions: Uint8Array | null = null): boolean {
    if (indexes.length > PROJECTED_FIELDS || indexes.some((v, i) => !Number.isInteger(v) || v < 0 || v >= PROJECTED_INDEX_LIMIT || (i > 0 && v <= indexes[i - 1]))) return false;
    const table = new Uint8Array(this.kernel.memory.buffer, this.kernel.wanted(), indexes.length);
    table.set(indexes);
    const drops = conditions !== null && conditions.length <= this.kernel.conditionBytes();
    if (drops) new Uint8Array(this.kernel.memory.buffer, this.kernel.conditions(), conditions.length).set(conditions);
    const projected = this.kernel.project(indexes.length, drops ? 1 : 0) === 1;
    this.dropping = projected && drops;
    return projected;
  }

  /**
   * Int32s per row record of the projected scan: start and end of each kept field, (when
   * `project` took conditions) the rows dropped before it and where the last of them ended,
   * the next row's start, the row's width.
   */
  get stride(): number {
    return this.kernel.stride();
  }

  /** Whether the projected scan drops rows (`project` took conditions that fit). */
  get drops(): boolean {
    return this.dropping;
  }

  /** From now on the projected scan drops rows of `width` fields that fail the conditions (0: none). */
  dropWidth(width: number): void {
    this.kernel.dropWidth(width);
  }

  /** Rows the last projected call dropped after its last record, and where the last of them ended. */
  get droppedTail(): number {
    return this.kernel.droppedTail();
  }

  get droppedEnd(): number {
    return this.kernel.droppedEnd();
  }

  /**
   * Scans `bytes[from, to)` keeping only the projected fields: writes one record per complete
   * row to `entries` (see `stride`); returns the rows, or `~rows` when the row after them needs
   * the JS scanner. It may stop early (a full output): `consumed` says how many bytes it read.
   */
  scanProjected(bytes: Uint8Array, from: number, to: number): number {
    this.copyIn('scanProjected', bytes, from, to);
    return this.kernel.scanProjected(to - from, from);
  }

  /** Copies bytes[from, to) to the kernel's input, refusing a range that is not one piece of at most `capacity`. */
  private copyIn(method: string, bytes: Uint8Array, from: number, to: number): void {
    if (to - from > this.capacity || from < 0 || to > bytes.length || to < from) {
      throw new RangeError(`WasmCsvScanner.${method}: bytes [${from}, ${to}) are not within one piece of ${this.capacity}`);
    }
    this.input.set(bytes.subarray(from, to));
  }

  /** Bytes the last `scanProjected` read (fewer than given when its output filled up). */
  get consumed(): number {
    return this.kernel.consumed();
  }

  /** The unfinished row's bytes moved `shift` bytes towards the start: its kept positions move with them. */
  rebase(shift: number): void {
    this.kernel.rebase(shift);
  }

  /** `finish` for the projected scan: the last row without a line break, as a record (returns 0 or 1 rows, or ~0). */
  finishProjected(end: number): number {
    return this.kernel.finishProjected(end);
  }

  /** Resumes at a row start, after the JS scanner read the row the kernel fell back on. */
  reset(): void {
    this.kernel.reset();
  }
}
