import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { njFordPolice } from '../../examples/parking.js';
import { postgresToCsv } from '../../examples/postgres-to-csv.js';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { usePostgres } from '../helpers/postgres.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const fixture = (name: string) => join(root, 'test/fixtures', name);

describe('examples: postgres-to-csv', () => {
  const db = usePostgres();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-pg-example-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The expected file was computed by bench/python (stdlib csv), not by sluice.
  it('run as a script, writes the same file as nj-ford-police from the CSV, and drops its table', async function () {
    this.timeout(60_000);
    const out = join(dir, 'nj.csv');
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(root, 'examples/postgres-to-csv.ts'), fixture('parking-small.csv'), out], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.server.url, SLUICE_PG: '' },
    });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(readFileSync(out, 'utf8')).to.equal(readFileSync(fixture('parking-small.nj-ford-police.csv'), 'utf8'));
    expect(summary.load.written).to.equal(summary.load.read);
    expect(summary.read.read).to.equal(summary.load.written);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'sluice_parking_%'`);
    expect(rows[0].n).to.equal(0);
  });

  it('on 20,000 generated rows (quotes, commas, empty fields), matches the CSV-only pipeline byte for byte', async function () {
    this.timeout(60_000);
    const input = join(dir, 'parking.csv');
    await writeParkingCsv(input, { rows: 20_000, seed: 7 });
    const pool = db.pool({ max: 2 });
    const viaPostgres = await postgresToCsv(pool, input, join(dir, 'pg.csv'));
    const direct = await njFordPolice(input, join(dir, 'direct.csv'));
    expect(readFileSync(join(dir, 'pg.csv'), 'utf8')).to.equal(readFileSync(join(dir, 'direct.csv'), 'utf8'));
    expect(viaPostgres.load.written).to.equal(20_000);
    expect(viaPostgres.read.written).to.equal(direct.written);
  });
});
