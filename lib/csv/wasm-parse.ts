/**
 * When csv.parse reads with the WebAssembly kernel (wasm-rows.ts) instead of the JS scanner,
 * and its rows in the shape the stage emits. The JS scanner stays the reference and the
 * fallback: it reads the header line, any input the kernel cannot read (other encodings,
 * trimming, an escape other than the quote, text chunks), and the rest of the stream from the
 * first row the kernel falls back on (a stray quote, text after a closing quote, a quote left open).
 */
import { WasmRows, type WasmRowsResult } from './wasm-rows.js';
import type { FusedWhere } from '../core/fusion.js';
import type { Resolved } from './parse-options.js';
import type { ScanResult } from './scanner.js';
import type { TextRow } from '../core/text-row.js';

/**
 * A kernel reader for the rest of the input, or null when the JS scanner must read it
 * (`SLUICE_CSV_WASM=0` in the environment turns the kernel off, for differential tests).
 * @param options - the stage's resolved options
 * @param utf8 - whether the input is UTF-8
 * @param indexes - the field indexes the stage keeps, or null for all
 * @param atStart - whether no input was read yet (then a byte-order mark is skipped)
 * @param textReads - with whole array rows: the fields TextRows hold (see lib/core/text-row.ts), or null for none
 */
export function wasmRowsFor(options: Resolved, utf8: boolean, indexes: readonly number[] | null, atStart: boolean, where: FusedWhere | null = null, headers: readonly string[] | null = null, textReads: readonly number[] | null = null): WasmRows | null {
  if (process.env.SLUICE_CSV_WASM === '0' || !options.fast || !utf8 || options.ltrim || options.rtrim) return null;
  // With `ragged: 'keep'` the JS scanner counts a projected row's width only up to the last wanted column.
  if (indexes !== null && options.ragged === 'keep') return null;
  // Projected rows have `indexes.length` fields; whole rows any number. Object rows are keyed by
  // the `columns` option's names (projected) or by the header's.
  const names = options.objects ? (indexes !== null ? (options.columns as readonly string[]) : headers) : null;
  const conditions = where === null || (options.objects && names === null) ? undefined : fieldConditions(where, names, indexes?.length ?? Infinity);
  return WasmRows.create(options.dialect, { columns: indexes, stripBom: atStart, emptyRows: true, raw: !options.objects, where: conditions, textReads });
}

/**
 * A fused `where`'s conditions on the fields the reader sees: each column as a position in
 * the row (an index of array rows, a name's place among `names`, the `columns` of object
 * rows), its string values only (no other value equals a field). A condition on a column
 * the rows do not have (at or past `width`) is left to the `where` stage.
 */
function fieldConditions(where: FusedWhere, names: readonly string[] | null, width: number): { column: number; values: string[] }[] {
  const conditions: { column: number; values: string[] }[] = [];
  for (const { column, values } of where.conditions) {
    // (An object row's key holds the last field of that name, as csv.parse makes it.)
    const position = names !== null ? names.lastIndexOf(String(column)) : typeof column === 'number' ? column : -1;
    if (position >= 0 && position < width) conditions.push({ column: position, values: values.filter((value): value is string => typeof value === 'string') });
  }
  return conditions;
}

/** A scanner's result, or the WebAssembly reader's, whose rows may be null (dropped for a fused `where`) or TextRows. */
export type ScannedRows = Omit<ScanResult, 'rows'> & { rows: readonly (string[] | TextRow | null)[] };

/** The kernel's rows as the JS scanner's result (nothing left over: the kernel keeps the unfinished row), without the last one if asked. */
export function scanResultOf(result: WasmRowsResult, dropLast = false): ScannedRows {
  const { rows, lines, widths } = result;
  const raws = result.raws ?? null;
  const edgeSpaces = result.edgeSpaces ?? null;
  if (!dropLast) return { rows, lines, widths, raws, edgeSpaces, rest: '', error: null };
  const end = rows.length - 1;
  return {
    rows: rows.slice(0, end), lines: lines.slice(0, end), widths: widths.slice(0, end),
    raws: raws && raws.slice(0, end), edgeSpaces: edgeSpaces && edgeSpaces.slice(0, end), rest: '', error: null,
  };
}
