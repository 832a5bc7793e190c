/** Input that is not valid CSV, or a row that breaks the configured limits. */
export class CsvError extends Error {
  override name = 'CsvError';
  readonly source: string;
  readonly line: number;

  constructor(source: string, line: number, reason: string, cause?: unknown) {
    super(`${source}, line ${line}: ${reason}`, cause === undefined ? undefined : { cause });
    this.source = source;
    this.line = line;
  }
}
