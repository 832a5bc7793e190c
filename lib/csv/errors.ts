/** Input that is not valid CSV, or a row that breaks the configured limits. */
export class CsvError extends Error {
  override name = 'CsvError';
  readonly source: string;
  readonly line: number;
  /** The 1-based column (in characters) of the character at fault, when known. */
  readonly column: number | undefined;

  constructor(source: string, line: number, reason: string, cause?: unknown, column?: number) {
    super(`${source}, line ${line}${column === undefined ? '' : `, column ${column}`}: ${reason}`, cause === undefined ? undefined : { cause });
    this.source = source;
    this.line = line;
    this.column = column;
  }
}
