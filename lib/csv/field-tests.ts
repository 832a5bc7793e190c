/**
 * Conditions of a fused `where` decided on a row's bytes (pure): a row fails when one of its
 * tested fields is unquoted and its bytes are none of the condition's values in UTF-8. The
 * bytes of an unquoted field are its text in UTF-8, so equal bytes are equal strings — but
 * for a value with U+FFFD or a lone surrogate, which bytes that are not UTF-8 also decode to:
 * such a condition is never decided here. A quoted field is not either (its text is not its
 * bytes). Undecided rows are made as usual, and the `where` stage tests them.
 */
export interface FieldCondition {
  /** The field's position in a projected record (see WasmRows' records), or its column without a projection. */
  readonly slot: number;
  /** The values, strings only (other values never equal a field). */
  readonly values: readonly string[];
}

/** U+FFFD, or a surrogate not in a pair (with the `u` flag a pair is one code point). */
const UNDECIDABLE = /[\uFFFD\p{Surrogate}]/u;

interface Test {
  readonly slot: number;
  readonly needles: readonly Uint8Array[];
}

export class FieldTests {
  private readonly tests: readonly Test[];

  private constructor(tests: readonly Test[], private readonly quote: number) {
    this.tests = tests;
  }

  /** The tests of the conditions that bytes can decide, or null when none can. */
  static of(conditions: readonly FieldCondition[], quote: number): FieldTests | null {
    const tests = conditions
      .filter(({ values }) => values.every((value) => !UNDECIDABLE.test(value)))
      .map(({ slot, values }) => ({ slot, needles: values.map((value) => Buffer.from(value, 'utf8')) }));
    return tests.length === 0 ? null : new FieldTests(tests, quote);
  }

  /**
   * The tests as the kernel's projected scan reads them (assembly/csv-scan.ts, "Drops"): their
   * count, then per test its slot, its values' count, and per value its length and bytes; null
   * when a count, a slot or a length passes 255.
   */
  encoded(): Uint8Array | null {
    const bytes: number[] = [this.tests.length];
    for (const { slot, needles } of this.tests) {
      bytes.push(slot, needles.length);
      for (const needle of needles) bytes.push(needle.length, ...needle);
    }
    return bytes.some((byte) => byte > 255) ? null : Uint8Array.from(bytes);
  }

  /** Whether the row whose record starts at `at` surely fails (fields as [start, end) pairs from `at`). */
  fails(window: Uint8Array, records: Int32Array, at: number): boolean {
    // Plain loops: it runs for every row, and a closure a row was 200 MB of garbage on 1 M rows.
    const tests = this.tests;
    for (let t = 0; t < tests.length; t++) {
      const { slot, needles } = tests[t]!;
      const start = records[at + 2 * slot]!;
      if (start >= 0 && this.failsOn(window, start, records[at + 2 * slot + 1]!, needles)) return true;
    }
    return false;
  }

  /**
   * The same for a row of `width` fields read from the kernel's entries (no projection; a
   * slot is a column): its fields end at entries[first], …, entries[first + width - 1], the
   * first one starting at `start`.
   */
  failsAmong(window: Uint8Array, entries: Int32Array, first: number, start: number, width: number): boolean {
    const tests = this.tests;
    for (let t = 0; t < tests.length; t++) {
      const { slot, needles } = tests[t]!;
      if (slot >= width) continue;
      const from = slot === 0 ? start : entries[first + slot - 1]! + 1;
      if (this.failsOn(window, from, entries[first + slot]!, needles)) return true;
    }
    return false;
  }

  /** Whether window[start, end) is an unquoted field none of `needles`. */
  private failsOn(window: Uint8Array, start: number, end: number, needles: readonly Uint8Array[]): boolean {
    return window[start] !== this.quote && !anyEqual(window, start, end - start, needles);
  }
}

/** Whether window[start, start + length) is one of `needles`. */
function anyEqual(window: Uint8Array, start: number, length: number, needles: readonly Uint8Array[]): boolean {
  for (let n = 0; n < needles.length; n++) {
    const needle = needles[n]!;
    if (needle.length !== length) continue;
    let i = 0;
    while (i < length && window[start + i] === needle[i]) i++;
    if (i === length) return true;
  }
  return false;
}
