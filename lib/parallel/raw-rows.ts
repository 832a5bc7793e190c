/**
 * A row csv.read made from a plain line (no quotes) and that arrives unchanged still has
 * that line in its origin (core/raw-line.ts): the line is then the row itself, its fields
 * joined by a one-character delimiter that none of them holds. parallel.map sends such rows
 * to its workers as their lines: one string a batch crosses the thread instead of one per
 * field, and the worker splits it back. Pure.
 */
import { unchangedRawLine } from '../core/raw-line.js';

/**
 * The line a row is, when csv.read read it from a plain line and it still holds exactly
 * that line's fields (the same strings, none added, removed or changed in place); else
 * undefined. Its `delimiter` splits it back into the row.
 */
export function rawLineOf(row: unknown): { readonly text: string; readonly delimiter: string } | undefined {
  const raw = unchangedRawLine(row);
  // (No field is no line: '' would split back into one empty field. The lines of a batch are joined by LF.)
  if (raw === undefined || raw.delimiter.length !== 1 || raw.delimiter === '\n' || raw.fields.length === 0) return undefined;
  return raw;
}
