import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse as csvParseSync } from 'csv-parse/sync';
import { daysUntilExpiration, epochDay } from '../../examples/parking.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const fixture = (name: string) => join(root, 'test/fixtures', name);

/** Runs an example script the way a user would, in a given process time zone. */
async function runExample(name: string, input: string, output: string, tz = 'UTC'): Promise<Record<string, number>> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples', `${name}.ts`), input, output], {
    cwd: root,
    env: { ...process.env, TZ: tz },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('examples: parking pipelines', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-parking-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('daysUntilExpiration()', () => {
    it('counts calendar days across DST changes and leap days', () => {
      expect(daysUntilExpiration('2018-03-10T00:00:00.000', '20180312')).to.equal(2);
      expect(daysUntilExpiration('2018-11-03', '20181105')).to.equal(2);
      expect(daysUntilExpiration('2020-02-28', '20200301')).to.equal(2);
      expect(daysUntilExpiration('2018-01-01', '20190101.0')).to.equal(365);
      expect(daysUntilExpiration('2018-06-15', '20180601')).to.equal(-14);
    });

    it('is -1 for dates that are not calendar dates', () => {
      for (const bad of ['0', '88888888', '20181301', '20190230', '20190229', '', '2018123', '20180101.5', '00000101']) {
        expect(daysUntilExpiration('2018-06-15', bad), bad).to.equal(-1);
      }
      expect(daysUntilExpiration('2018-02-30', '20190101')).to.equal(-1);
      expect(daysUntilExpiration('', '20190101')).to.equal(-1);
    });

    it('handles years before 100 without mapping them to 19xx', () => {
      expect(epochDay(99, 1, 1)).to.equal(epochDay(100, 1, 1)! - 365);
    });

    it("epochDay agrees with Date's proleptic Gregorian calendar on every day of years 1–600 and 1800–2600", () => {
      let checked = 0;
      for (const [from, to] of [[1, 600], [1800, 2600]]) {
        for (let year = from; year <= to; year++) {
          for (let month = 0; month <= 13; month++) {
            for (let day = 0; day <= 32; day++) {
              const date = new Date(0);
              date.setUTCFullYear(year, month - 1, day);
              const valid = month >= 1 && month <= 12 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
              const expected = valid ? Math.round(date.getTime() / 86_400_000) : null;
              if (epochDay(year, month, day) !== expected) expect(epochDay(year, month, day), `${year}-${month}-${day}`).to.equal(expected);
              if (valid) checked++;
            }
          }
        }
      }
      expect(checked).to.equal(((600 + 801) * 365 + 145 + 194)); // days in those years: 145 + 194 leap days
    });
  });

  // The expected files were computed by bench/python (stdlib csv + datetime), not by sluice.
  it('nj-ford-police matches the independently computed output', async () => {
    const out = join(dir, 'nj.csv');
    const summary = await runExample('nj-ford-police', fixture('parking-small.csv'), out);
    const expected = readFileSync(fixture('parking-small.nj-ford-police.csv'), 'utf8');
    expect(readFileSync(out, 'utf8')).to.equal(expected);
    expect(summary.written).to.equal(expected.trimEnd().split('\n').length - 1);
    expect(summary.read).to.equal(summary.written + summary.filtered + summary.rejected);
  });

  for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Lord_Howe']) {
    it(`days-until-expiration matches the independently computed output (TZ=${tz})`, async () => {
      const out = join(dir, `days-${tz.replace('/', '-')}.csv`);
      const summary = await runExample('days-until-expiration', fixture('parking-small.csv'), out, tz);
      // The same rows read by an independent reader: sluice quotes values with whitespace at
      // their edge (` NJ`), which Python's csv writes bare (docs/csv.md, issue 11).
      const rowsOf = (file: string) => csvParseSync(readFileSync(file, 'utf8'), { relax_column_count: true }) as string[][];
      expect(rowsOf(out)).to.deep.equal(rowsOf(fixture('parking-small.days-until-expiration.csv')));
      expect(summary.read).to.equal(summary.written);
    });
  }
});
