import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { csv } from '../../lib/index.js';
import { addressKey, normaliseHouse, normaliseStreet } from '../../examples/address-key.js';
import { writeParkingCsv } from '../../examples/sample-data.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** Runs the example as a user would; returns its summary line. */
async function normalise(input: string, output: string, threads: number): Promise<Record<string, number>> {
  const script = join(root, 'examples/normalise-addresses.ts');
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', script, input, output, '--threads', String(threads)], { cwd: root });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('examples: normalise-addresses', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-addresses-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('normalises streets and house numbers', () => {
    expect(normaliseStreet('w 42nd st.')).to.equal('WEST 42 STREET');
    expect(normaliseStreet('  E 125TH ST / Park Ave ')).to.equal('EAST 125 STREET PARK AVENUE');
    expect(normaliseHouse('0012-a')).to.equal('12-A');
    expect(addressKey('12', 'W 42 STREET', 'ny')).to.equal(addressKey('0012', 'w 42nd st', 'NY'));
    expect(addressKey('12', 'W 42 STREET', 'NY')).to.match(/^[0-9a-f]{64}$/);
  });

  it('writes every row plus address_key, byte for byte the same with 0, 1 and 2 threads (parallel.csv: 3 ranges of the file)', async () => {
    const input = join(dir, 'parking.csv');
    await writeParkingCsv(input, { rows: 12_000, seed: 7 });
    // More than two of parallel.csv's default 1 MiB ranges: the threads share the file.
    expect((await stat(input)).size).to.be.above(2 * 1_048_576);
    const outputs: string[] = [];
    for (const threads of [0, 1, 2]) {
      const output = join(dir, `keyed-${threads}.csv`);
      const summary = await normalise(input, output, threads);
      expect(summary, `--threads ${threads}`).to.include({ read: 12_000, written: 12_000, filtered: 0, rejected: 0 });
      outputs.push(await readFile(output, 'utf8'));
    }
    expect(outputs[1]).to.equal(outputs[0]);
    expect(outputs[2]).to.equal(outputs[0]);

    // Every input row, in order, with its key last.
    const read = async (file: string) => {
      const rows: string[][] = [];
      const source = csv.read(file);
      for await (const row of source) rows.push(row as string[]);
      return { header: source.headers ?? [], rows };
    };
    const [original, keyed] = [await read(input), await read(join(dir, 'keyed-2.csv'))];
    expect(keyed.header).to.deep.equal([...original.header, 'address_key']);
    expect(keyed.rows.length).to.equal(12_000);
    keyed.rows.forEach((row, i) => {
      const source = original.rows[i];
      if (i % 1_000 === 0) expect(row).to.deep.equal([...source, addressKey(source[23], source[24], source[2])]);
    });
  });

  it('rejects a bad --threads value', async () => {
    const error = await normalise(join(dir, 'x.csv'), join(dir, 'y.csv'), -1).catch((e: Error & { stderr: string; code: number }) => e);
    expect((error as { code: number }).code).to.equal(2);
    expect((error as { stderr: string }).stderr).to.include('--threads wants a whole number from 0 up, got -1');
  });
});
