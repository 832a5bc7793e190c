import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeCodesCsv } from '../../examples/fines.js';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { expectedFines } from '../helpers/fines.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

describe('examples: fines-by-state (a left join with a codes table, then per state)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-fines-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the exact totals of an independent computation; codes missing from CODES add 0', async () => {
    const input = join(dir, 'tickets.csv');
    const codes = join(dir, 'codes.csv');
    await writeParkingCsv(input, { rows: 3000, seed: 5 });
    await writeCodesCsv(codes);
    const output = join(dir, 'fines.csv');
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/fines-by-state.ts'), input, codes, output], { cwd: root });
    expect(JSON.parse(stdout)).to.include({ read: 3000 });
    const expected = expectedFines(input, codes);
    expect(expected.split('\n').length).to.be.above(10);
    expect(readFileSync(output, 'utf8')).to.equal(expected);
    // The sample has tickets with codes the table lacks (multiples of 9, e.g. 36): they are counted, with no fine.
    expect(readFileSync(input, 'utf8')).to.match(/,36,/);
  });

  it('a repeated code in CODES fails naming the file and line; a bad usage exits 2', async () => {
    const codes = join(dir, 'dup.csv');
    writeFileSync(codes, 'violation_code,fine\n21,65\n21,70\n');
    const input = join(dir, 'one.csv');
    await writeParkingCsv(input, { rows: 10, seed: 1 });
    const failed = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/fines-by-state.ts'), input, codes, join(dir, 'x.csv')], { cwd: root }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).to.include({ code: 1 });
    expect((failed as { stderr: string }).stderr).to.equal(`fines-by-state: ${codes}, line 3: violation code "21" appears twice\n`);
    const usage = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/fines-by-state.ts'), input], { cwd: root }).catch((e: { code: number }) => e);
    expect(usage).to.include({ code: 2 });
  });
});
