/**
 * Conformance cases of the kind csv-spectrum collects, one (at least) for every row of the
 * table of choices in docs/csv.md, in test/fixtures/csv-conformance: NAME.csv and the
 * expected NAME.json — `rows`, their `lines`, and the `error` message if any — read with
 * `header: false` and `ragged: 'keep'` unless its `options` say otherwise. sluice's scanner
 * must give exactly that for the input whole and split at every byte. `parser: 'fast-csv'`
 * must give the same, or, where fast-csv has a quirk, what `fastCsv` records (each such
 * fixture is an example of a quirk class docs/csv.md lists).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CsvParseOptions } from '../../lib/index.js';
import { parseChunks, type Parsed } from '../helpers/csv.js';

const dir = fileURLToPath(new URL('../fixtures/csv-conformance/', import.meta.url));
const names = readdirSync(dir).filter((file) => file.endsWith('.csv')).map((file) => file.slice(0, -4)).sort();

interface Expected {
  options?: CsvParseOptions;
  rows: unknown[];
  lines: number[];
  error?: string;
  fastCsv?: Omit<Expected, 'options' | 'fastCsv'>;
}

const summary = (parsed: Parsed) => ({ rows: parsed.rows, lines: parsed.lines, ...(parsed.error ? { error: parsed.error.message } : {}) });

describe('CSV conformance fixtures', () => {
  it('has the fixtures', () => {
    expect(names).to.include.members([
      'simple', 'comma_in_quotes', 'escaped_quotes', 'newlines_crlf', 'bom', 'error_unclosed_quote',
      'whitespace_only_lines', 'whitespace_first_field', 'whitespace_before_quote', 'error_whitespace_after_quote',
      'last_line_whitespace_no_eol', 'bom_twice', 'nul', 'trim_lenient', 'error_header_whitespace_only', 'error_header_empty',
    ]);
  });

  for (const name of names) {
    const input = readFileSync(`${dir}${name}.csv`);
    const { options: given, fastCsv, ...expected } = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as Expected;
    const options: CsvParseOptions = { header: false, ragged: 'keep', ...given };

    it(`${name}: sluice gives the expected rows, lines and error${fastCsv ? "; fast-csv its recorded quirk" : ', and so does fast-csv'}`, async () => {
      const sluice = await parseChunks([input], options);
      expect(sluice.error === null || sluice.error.name === 'CsvError').to.equal(true);
      expect(summary(sluice)).to.deep.equal(expected);
      expect(summary(await parseChunks([input], { ...options, parser: 'fast-csv' }))).to.deep.equal(fastCsv ?? expected);
    });

    it(`${name}: sluice's scanner gives the same for a split at every byte`, async () => {
      for (let i = 0; i <= input.length; i++) {
        const parsed = await parseChunks([input.subarray(0, i), input.subarray(i)], options);
        expect(summary(parsed), `split at ${i}`).to.deep.equal(expected);
      }
    });
  }
});
