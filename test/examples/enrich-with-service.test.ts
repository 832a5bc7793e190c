import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { csv, pipe } from '../../lib/index.js';
import { registrationStatus } from '../../examples/enrich-with-service.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const fixture = join(root, 'test/fixtures/parking-small.csv');

async function rowsOf(file: string): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const row of pipe(csv.read(file))) rows.push(row);
  return rows;
}

describe('examples: enrich-with-service', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-enrich-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every row plus registration_status from the service; the last line is the JSON summary', async () => {
    const out = join(dir, 'enriched.csv');
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/enrich-with-service.ts'), fixture, out, '--batch-size', '10'], { cwd: root });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>;
    const input = await rowsOf(fixture);
    const output = await rowsOf(out);
    expect(output).to.deep.equal(input.map((row) => [...row, registrationStatus(row[1], row[2])]));
    expect(readFileSync(out, 'utf8').split('\n')[0]).to.match(/,Double Parking Violation,registration_status$/);
    // The registry fails the first attempt of a batch whose first plate is "suspended".
    const batches = Math.ceil(input.length / 10);
    const overloaded = Array.from({ length: batches }, (_, i) => input[i * 10]).filter((row) => registrationStatus(row[1], row[2]) === 'suspended').length;
    expect(summary).to.deep.equal({ rows_in: input.length, rows_out: input.length, rejected: 0, calls: batches + overloaded, batch_size: 10, retries: overloaded });
    expect(stdout).to.match(new RegExp(`service: ${batches + overloaded} calls charged`));
  });
});
