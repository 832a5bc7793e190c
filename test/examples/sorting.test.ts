import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const fixture = join(root, 'test/fixtures/parking-small.csv');

async function runExample(name: string, args: string[]): Promise<Record<string, number>> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples', `${name}.ts`), ...args], { cwd: root });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe('examples: sorting and aggregating the parking file', () => {
  let dir: string;
  const [header, ...rows] = parse(readFileSync(fixture)) as string[][];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sorting-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const memory of ['64MB', '4kB']) {
    it(`sort-by-make --memory ${memory}: every row, by make then summons number as strings, stable`, async () => {
      const out = join(dir, `sorted-${memory}.csv`);
      const summary = await runExample('sort-by-make', [fixture, out, '--memory', memory]);
      const expected = rows.map((r, i) => ({ r, i })).sort((a, b) => byString(a.r[7]!, b.r[7]!) || byString(a.r[0]!, b.r[0]!) || a.i - b.i).map((x) => x.r);
      expect(parse(readFileSync(out))).to.deep.equal([header, ...expected]);
      expect(summary).to.include({ read: rows.length, written: rows.length });
    });
  }

  it('tickets-by-state: one row per (state, code) with its count, by tickets desc then state, code asc', async () => {
    const out = join(dir, 'tickets.csv');
    await runExample('tickets-by-state', [fixture, out]);
    const counts = new Map<string, [string, string, number]>();
    for (const r of rows) {
      const k = JSON.stringify([r[2], r[5]]);
      const c = counts.get(k) ?? [r[2]!, r[5]!, 0];
      c[2]++;
      counts.set(k, c);
    }
    const expected = [...counts.values()].sort((a, b) => b[2] - a[2] || byString(a[0], b[0]) || byString(a[1], b[1])).map(([s, c, n]) => [s, c, String(n)]);
    expect(expected.length).to.be.greaterThan(5);
    // Read back by an independent reader: sluice quotes a value like ` NJ` (issue 11).
    expect(parse(readFileSync(out, 'utf8'))).to.deep.equal([['registration_state', 'violation_code', 'tickets'], ...expected]);
  });
});
