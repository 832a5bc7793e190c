import { csvParse } from './operations/csv-parse.js';
import { csvFormat } from './operations/csv-format.js';
import { csvRead } from './sources/csv-read.js';
import { csvWrite } from './sinks/csv-write.js';

/** CSV in and out, over fast-csv: `csv.read`, `csv.parse`, `csv.write`, `csv.format`. */
export const csv = { read: csvRead, parse: csvParse, write: csvWrite, format: csvFormat } as const;
