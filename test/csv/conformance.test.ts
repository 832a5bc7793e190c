/**
 * Conformance cases of the kind csv-spectrum collects (plus fast-csv's quirks and both
 * syntax errors), in test/fixtures/csv-conformance: NAME.csv and the expected NAME.json
 * (`rows`, their `lines`, and the `error` message if any), read with `header: false` and
 * `ragged: 'keep'` so every row shows. Both parsers must give exactly the expected result,
 * and sluice's scanner must give it for the input split at any byte.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CsvParseOptions } from '../../lib/index.js';
import { parseChunks, type Parsed } from '../helpers/csv.js';

const dir = fileURLToPath(new URL('../fixtures/csv-conformance/', import.meta.url));
const names = readdirSync(dir).filter((file) => file.endsWith('.csv')).map((file) => file.slice(0, -4)).sort();

const summary = (parsed: Parsed) => ({ rows: parsed.rows, lines: parsed.lines, ...(parsed.error ? { error: parsed.error.message } : {}) });

describe('CSV conformance fixtures', () => {
  it('has the fixtures', () => {
    expect(names).to.include.members(['simple', 'comma_in_quotes', 'escaped_quotes', 'newlines_crlf', 'bom', 'error_unclosed_quote']);
  });

  for (const name of names) {
    const input = readFileSync(`${dir}${name}.csv`);
    const expected = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as unknown;
    const options: CsvParseOptions = { header: false, ragged: 'keep' };

    it(`${name}: both parsers give the expected rows, lines and error`, async () => {
      expect(summary(await parseChunks([input], { ...options, parser: 'fast-csv' }))).to.deep.equal(expected);
      const sluice = await parseChunks([input], options);
      expect(sluice.error === null || sluice.error.name === 'CsvError').to.equal(true);
      expect(summary(sluice)).to.deep.equal(expected);
    });

    it(`${name}: sluice's scanner gives the same for a split at every byte`, async () => {
      for (let i = 0; i <= input.length; i++) {
        const parsed = await parseChunks([input.subarray(0, i), input.subarray(i)], options);
        expect(summary(parsed), `split at ${i}`).to.deep.equal(expected);
      }
    });
  }
});
