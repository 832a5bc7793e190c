/**
 * Formula-injection guard for CSV opened in spreadsheets (OWASP "CSV Injection"): a text
 * cell that starts with `=`, `+`, `-`, `@`, tab or CR — also after leading spaces — is
 * prefixed with `'`, so the spreadsheet shows it as text instead of evaluating it. Numbers
 * (`-5`, `+1.5e3`) are left alone: they are what they look like.
 */
import { setField } from '../core/rows.js';

const RISKY = /^ *[=+\-@\t\r]/;
const NUMBER = /^ *[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? *$/;

export function safeCell(value: unknown): unknown {
  return typeof value === 'string' && RISKY.test(value) && !NUMBER.test(value) ? `'${value}` : value;
}

/** The row itself when no cell needs the prefix (cheap), else a copy with the cells fixed. */
export function safeRow<R extends readonly unknown[] | Record<string, unknown>>(row: R): R {
  if (Array.isArray(row)) {
    for (let i = 0; i < row.length; i++) {
      if (safeCell(row[i]) !== row[i]) return row.map(safeCell) as unknown as R;
    }
    return row;
  }
  const record = row as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.every((key) => safeCell(record[key]) === record[key])) return row;
  const copy: Record<string, unknown> = {};
  for (const key of keys) setField(copy, key, safeCell(record[key]));
  return copy as R;
}
