/**
 * CSV in and out: `csv.read` (a file or byte stream → rows), `csv.parse` (bytes/text →
 * rows, in the middle of a pipeline), `csv.format` (rows → text) and `csv.write` (rows → a
 * file or Writable).
 *
 * Read first: parse.ts (the stage every reader is), then scanner.ts (sluice's own parser,
 * pure code over text). A row flows: file-chunks.ts reads bytes → parse.ts decodes them
 * (utf8.ts) and hands text to scanner.ts (or fast-csv behind fast-csv-parse.ts) → rows leave
 * with their line as origin (raw-line.ts keeps the raw text for a cheap write-back) →
 * format.ts turns rows into text with formatter.ts (or fast-csv-format.ts) → write.ts and
 * file-writer.ts put it in a file. CsvError (errors.ts) names the source and line. For runs
 * on many workers, split.ts cuts a file into byte ranges (split-cuts.ts finds the cuts).
 */
import { csvFormat } from './format.js';
import { csvParse } from './parse.js';
import { csvRead } from './read.js';
import { csvSplit } from './split.js';
import { csvWrite } from './write.js';

/** CSV in and out: `csv.read`, `csv.parse`, `csv.write`, `csv.format`, and `csv.split` (byte-range splits for workers). */
export const csv = { read: csvRead, parse: csvParse, write: csvWrite, format: csvFormat, split: csvSplit } as const;

export { CsvError } from './errors.js';
export type { CsvParseOptions, CsvParseStage } from './parse.js';
export type { CsvFormatOptions, CsvFormatStage, CsvRow } from './format.js';
export type { CsvReadOptions } from './read.js';
export type { CsvWriteOptions, CsvWriteSink } from './write.js';
export type { CsvSplit, CsvSplitOptions, CsvSplitSource } from './split.js';
