import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { usePostgres } from '../helpers/postgres.js';

const root = new URL('../..', import.meta.url).pathname;

describe('examples: distributed-load', () => {
  const db = usePostgres();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-distributed-example-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every row exactly once with 3 workers on pg-boss, though one is SIGKILLed while it works', async function () {
    this.timeout(60_000);
    const input = join(dir, 'in.csv');
    await writeParkingCsv(input, { rows: 20_000, seed: 7 });
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/distributed-load.ts'), input, 'tickets', '--workers', '3', '--engine', 'pg-boss', '--splits', '24', '--expire', '2'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, PGBOSS_SCHEMA: db.schema, SLUICE_PG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    let victim: number | undefined;
    const killed = new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c;
        const first = /worker (\d+) started/.exec(stderr);
        if (first && victim === undefined) {
          victim = Number(first[1]);
          // Once some split has committed, the first worker is at work (or between splits): kill it.
          const look = async (): Promise<void> => {
            const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${db.schema}.sluice_split_done`).catch(() => ({ rows: [{ n: '0' }] }));
            if (rows[0].n === '0') return void setTimeout(look, 20);
            process.kill(victim!, 'SIGKILL');
            resolve();
          };
          void look();
        }
      });
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    await killed;
    expect(code, stderr).to.equal(0);
    expect(stderr).to.contain(`a worker ended (SIGKILL); starting another`);
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary.rows).to.equal(20_000);
    expect(summary.splits).to.equal(24);
    expect(summary.rejected).to.equal(0);
    expect(summary.attempts).to.be.at.least(24);
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT "Summons Number") AS d FROM ${db.schema}.tickets`);
    expect(rows[0]).to.deep.equal({ n: '20000', d: '20000' });
  });
});
