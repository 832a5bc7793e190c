import { FormatterOptions, type FormatterOptionsArgs } from '@fast-csv/format';
import { RowFormatter } from '@fast-csv/format/build/src/formatter/RowFormatter.js';

type CsvRow = readonly unknown[] | Record<string, unknown>;

/** fast-csv's row formatter: the fallback of csv.format, loaded only when it is used. */
export function fastCsvRowFormatter(args: FormatterOptionsArgs<CsvRow, CsvRow>): RowFormatter<CsvRow, CsvRow> {
  return new RowFormatter(new FormatterOptions(args));
}
