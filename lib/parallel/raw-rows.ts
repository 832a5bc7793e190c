/**
 * A row csv.read made from a plain line (no quotes) and that arrives unchanged still has
 * that line in its origin (core/raw-line.ts): the line is then the row itself, its fields
 * joined by a one-character delimiter that none of them holds. parallel.map sends such rows
 * as their lines, and parallel.csv's workers answer with lines: one string a batch crosses
 * the thread instead of one per field, and the receiving side splits it back. Pure.
 */
import { originOf } from '../core/origin.js';
import { rawLineOf as rawLineOfOrigin } from '../core/raw-line.js';

/**
 * The line a row is, when csv.read read it from a plain line and it still holds exactly
 * that line's fields (the same strings, none added, removed or changed in place); else
 * undefined. Its `delimiter` splits it back into the row.
 */
export function rawLineOf(row: unknown): { readonly text: string; readonly delimiter: string } | undefined {
  if (!Array.isArray(row)) return undefined;
  const raw = rawLineOfOrigin(originOf(row));
  // (No field is no line: '' would split back into one empty field. The lines of a batch are joined by LF.)
  if (raw === undefined || raw.delimiter.length !== 1 || raw.delimiter === '\n' || row.length === 0 || row.length !== raw.fields.length) return undefined;
  const { fields } = raw;
  for (let i = 0; i < fields.length; i++) if (row[i] !== fields[i]) return undefined;
  return raw;
}
