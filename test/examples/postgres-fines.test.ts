import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type pg from 'pg';
import { finesFromPostgres, loadCodes, writeCodesCsv } from '../../examples/fines.js';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { usePostgres } from '../helpers/postgres.js';
import { expectedFines } from '../helpers/fines.js';

describe('examples: fines from PostgreSQL through postgres.lookup', () => {
  const db = usePostgres();
  let pool: pg.Pool;
  let dir: string;
  before(() => {
    pool = db.pool({ max: 1 });
    dir = mkdtempSync(join(tmpdir(), 'sluice-pgfines-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same totals as the independent computation, a query per batch of new codes', async () => {
    const input = join(dir, 'tickets.csv');
    const codes = join(dir, 'codes.csv');
    await writeParkingCsv(input, { rows: 3000, seed: 5 });
    await writeCodesCsv(codes);
    await loadCodes(pool, codes, 'codes');
    let queries = 0;
    const count = () => queries++;
    pool.on('acquire', count);
    try {
      const output = join(dir, 'fines.csv');
      const summary = await finesFromPostgres(pool, 'codes', input, output);
      expect(summary).to.include({ read: 3000 });
      expect(readFileSync(output, 'utf8')).to.equal(expectedFines(input, codes));
    } finally {
      pool.off('acquire', count);
    }
    // The sample's codes are few (about 30): the first batches ask them all, then the cache answers.
    expect(queries).to.be.within(1, 6);
  });
});
