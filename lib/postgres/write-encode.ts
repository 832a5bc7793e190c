/**
 * A batch of `postgres.write` made ready to send while the batch before it is on the server:
 * one COPY text for the batch, or each row's values as text (and, for an upsert through
 * unnest, those values as one array per column).
 */
import { copyField, toPgText, type PgText } from './text.js';
import { rowValues, type Plan } from './table-plan.js';
import { PostgresWriteError } from './write-error.js';
import type { Resolved } from './write-options.js';

/** A batch ready to send: COPY data (copy, upsert), or (insert) each row's values as text. */
export type Encoded = Buffer | PgText[][];

/**
 * The batch ready to send — copy, and upsert through the staging table: its COPY data
 * (one string for the batch, made into one Buffer); otherwise each row's values as text
 * — or the error naming the first row that cannot be encoded.
 */
export function encodeBatch(plan: Plan, mode: Resolved['mode'], stage: string, batch: number, first: number, rows: unknown[]): Encoded | PostgresWriteError {
  if (mode === 'insert' || (mode === 'upsert' && plan.staging === null)) {
    const values = new Array<PgText[]>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      try {
        values[i] = rowValues(rows[i], plan, toPgText);
      } catch (error) {
        return new PostgresWriteError(stage, batch, first, rows, i, 'nothing of it was sent', error);
      }
    }
    return values;
  }
  const upsert = mode === 'upsert';
  const keyIndexes = upsert ? plan.key.map((k) => plan.columns.findIndex((c) => c.name === k)) : [];
  // Upsert: the line of the last row with each key (ON CONFLICT may touch a row only
  // once a statement). Keys compare as their COPY text, which is as unique as the text.
  const lastOfKey = new Map<string, number>();
  // A line per row, plus '' so that joining ends the last line too.
  const lines = new Array<string>(rows.length + 1);
  for (let i = 0; i < rows.length; i++) {
    let fields: string[];
    try {
      fields = rowValues(rows[i], plan, copyField);
    } catch (error) {
      return new PostgresWriteError(stage, batch, first, rows, i, 'nothing of it was sent', error);
    }
    lines[i] = fields.join('\t');
    if (upsert) lastOfKey.set(keyIndexes.length === 1 ? fields[keyIndexes[0]] : keyIndexes.map((k) => fields[k]).join('\t'), i);
  }
  lines[rows.length] = '';
  if (upsert && lastOfKey.size < rows.length) {
    const kept = [...lastOfKey.values()].sort((a, b) => a - b).map((i) => lines[i]);
    kept.push('');
    return Buffer.from(kept.join('\n'));
  }
  return Buffer.from(lines.join('\n'));
}

/** One array per column (unnest's input): the parameter count stays at the column count. */
export function columnArrays(plan: Plan, values: PgText[][]): PgText[][] {
  return plan.columns.map((_, c) => values.map((row) => row[c]));
}

/** Upsert: the last row of each key in the batch (ON CONFLICT may touch a row once per statement). */
export function dedupe(plan: Plan, values: PgText[][]): PgText[][] {
  const keyIndexes = plan.key.map((k) => plan.columns.findIndex((c) => c.name === k));
  const last = new Map<string, number>();
  values.forEach((row, i) => last.set(JSON.stringify(keyIndexes.map((k) => row[k])), i));
  return last.size === values.length ? values : values.filter((row, i) => last.get(JSON.stringify(keyIndexes.map((k) => row[k]))) === i);
}
