import { ParserOptions } from '@fast-csv/parse';
import { Parser } from '@fast-csv/parse/build/src/parser/Parser.js';
import { linesSpanned } from './lines.js';
import type { ScanResult } from './scanner.js';

/**
 * fast-csv's pure `Parser` behind the scanner's interface: the fallback for options sluice's
 * scanner does not cover, and the oracle it is tested against. Rows only — a projection is
 * applied by the stage.
 */
export class FastCsvReader {
  private readonly parser: Parser;
  private readonly options: ParserOptions;

  /** @param args fast-csv's parser options (delimiter, quote, escape), without `undefined` values. */
  constructor(args: { delimiter?: string; quote?: string; escape?: string }) {
    this.options = new ParserOptions(args);
    this.parser = new Parser(this.options);
  }

  scan(text: string, more: boolean): ScanResult {
    // fast-csv drops a U+FEFF at the start of every text it is given, so a mark inside the
    // file was data or not depending on where chunks split. The stage drops the input's own
    // mark; one more here keeps any other as data.
    const input = text.charCodeAt(0) === 0xfeff ? `\ufeff${text}` : text;
    try {
      const { rows, line } = this.parser.parse(input, more);
      return { rows, lines: rows.map(linesSpanned), widths: null, rest: line, error: null };
    } catch (error) {
      // Deliver the rows before the bad one; the stage fails on the line where it starts.
      const rows = this.longestParsablePrefix(input);
      const message = error instanceof Error ? error.message : String(error);
      const kind = message.includes('missing closing') ? 'unclosed-quote' : 'text-after-quote';
      // fast-csv's message quotes the raw input (user data): keep its first words only.
      const cause = new Error(`fast-csv: ${message.split(':')[0]} (input redacted)`);
      return { rows, lines: rows.map(linesSpanned), widths: null, rest: '', error: kind, cause };
    }
  }

  /** The complete rows before a syntax error: bisects for the longest prefix that parses. */
  private longestParsablePrefix(text: string): string[][] {
    const parses = (length: number) => {
      try {
        return new Parser(this.options).parse(text.slice(0, length), true).rows;
      } catch {
        return null;
      }
    };
    let low = 0;
    let high = text.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (parses(mid)) low = mid;
      else high = mid - 1;
    }
    return parses(low) ?? [];
  }
}
