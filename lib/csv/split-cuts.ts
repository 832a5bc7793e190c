/**
 * Where byte-range splits of a CSV file may be cut: a pure scan over the file's bytes (fed
 * chunk by chunk) that follows the scanner's quoting rules (scanner.ts) closely enough to
 * know, at every line break, whether it ends a row or sits inside a quoted field, and that
 * counts the line breaks before each cut, so a split's rows get real file line numbers.
 *
 * A line break is LF, CRLF (counted once, ending at its LF) or a lone CR, as the parser
 * counts them. For each target offset t, the naive cut is just after the first line break
 * whose last byte is at or past t; the row-safe cut is just after the first such break that
 * is outside quotes. Invariant: both only move forward, so targets are met in order.
 */

/** Field states of the scan (after scanner.ts: whitespace may precede an opening quote). */
const enum State { Start, Unquoted, Quoted, Escaped, QuoteSeen, After }

/** One target offset resolved: where the split after it starts. */
export interface Cut {
  /** The offset asked for. */
  readonly target: number;
  /** Byte just after the first line break at or past the target (the naive cut), or null: none. */
  readonly naive: number | null;
  /** Whether that line break is inside a quoted field (the naive cut would halve a row). */
  readonly inside: boolean;
  /** 1-based file line of the naive cut's first byte. */
  readonly naiveLine: number;
  /** Byte just after the first line break outside quotes at or past the target, or null: none. */
  readonly safe: number | null;
  /** 1-based file line of the row that starts at `safe`. */
  readonly safeLine: number;
}

export interface CutDialect {
  readonly delimiter: number;
  readonly quote: number;
  readonly escape: number;
}

interface Pending {
  target: number;
  naive: number | null;
  inside: boolean;
  naiveLine: number;
  safe: number | null;
  safeLine: number;
}

export class CutScanner {
  /** Line breaks seen so far. */
  lineBreaks = 0;
  /** Line breaks seen inside quoted fields. */
  quotedLineBreaks = 0;
  /** 1-based line where the first quoted line break's field began, or 0: none yet. */
  firstQuotedLine = 0;
  private state = State.Start;
  private position = 0;
  /** A CR seen last, whose meaning depends on the next byte. */
  private crAt = -1;
  private crInside = false;
  private readonly cuts: Pending[];
  private naiveNext = 0;
  private safeNext = 0;
  private fieldLine = 1;

  /** @param targets Offsets in increasing order. */
  constructor(private readonly dialect: CutDialect, targets: readonly number[]) {
    this.cuts = targets.map((target) => ({ target, naive: null, inside: false, naiveLine: 0, safe: null, safeLine: 0 }));
  }

  push(bytes: Uint8Array): void {
    const { delimiter, quote, escape } = this.dialect;
    for (let i = 0; i < bytes.length; i++, this.position++) {
      const b = bytes[i];
      if (this.crAt !== -1) {
        const at = this.crAt;
        this.crAt = -1;
        if (b !== 10) this.lineBreak(at, this.crInside); // a lone CR; this byte is read next
      }
      if (b === 13) {
        this.crAt = this.position;
        this.crInside = this.inside();
        continue;
      }
      if (b === 10) {
        this.lineBreak(this.position, this.inside());
        continue;
      }
      switch (this.state) {
        case State.Start:
          if (b === quote) {
            this.state = State.Quoted;
            this.fieldLine = this.lineBreaks + 1;
          } else if (b !== delimiter && b !== 32 && b !== 9) this.state = State.Unquoted;
          break;
        case State.Unquoted:
        case State.After:
          if (b === delimiter) this.state = State.Start;
          break;
        case State.Quoted:
          if (b === escape && escape !== quote) this.state = State.Escaped;
          else if (b === quote) this.state = escape === quote ? State.QuoteSeen : State.After;
          break;
        case State.Escaped:
          // The quote or the escape after an escape is that character; anything else makes
          // the escape literal and is itself plain text (neither can close the field).
          this.state = State.Quoted;
          break;
        case State.QuoteSeen:
          if (b === quote) this.state = State.Quoted;
          else this.state = b === delimiter ? State.Start : State.After;
          break;
      }
    }
  }

  /** Ends the input; returns every target's cut, in order. */
  end(): Cut[] {
    if (this.crAt !== -1) {
      this.crAt = -1;
      this.lineBreak(this.position - 1, this.crInside);
    }
    return this.cuts;
  }

  /** Whether the scan is inside a quoted field (a line break here belongs to a field). */
  private inside(): boolean {
    return this.state === State.Quoted || this.state === State.Escaped;
  }

  private lineBreak(at: number, inside: boolean): void {
    this.lineBreaks++;
    if (inside) {
      this.quotedLineBreaks++;
      if (this.firstQuotedLine === 0) this.firstQuotedLine = this.fieldLine;
      if (this.state === State.Escaped) this.state = State.Quoted;
    } else this.state = State.Start;
    const line = this.lineBreaks + 1;
    while (this.naiveNext < this.cuts.length && this.cuts[this.naiveNext].target <= at) {
      const cut = this.cuts[this.naiveNext++];
      cut.naive = at + 1;
      cut.inside = inside;
      cut.naiveLine = line;
    }
    while (!inside && this.safeNext < this.naiveNext) {
      const cut = this.cuts[this.safeNext++];
      cut.safe = at + 1;
      cut.safeLine = line;
    }
  }
}
