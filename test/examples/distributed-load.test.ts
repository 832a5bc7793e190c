import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { distributed } from '../../lib/index.js';
import { REDIS_URL, bullmqUnavailable } from '../distributed/helpers.js';
import { usePostgres } from '../helpers/postgres.js';

const root = new URL('../..', import.meta.url).pathname;
const prefix = `sluice-test-example-${process.pid}-${randomBytes(3).toString('hex')}`;
const bullmqMissing = await bullmqUnavailable();
if (bullmqMissing) console.log(`  distributed-load on BullMQ NOT RUN: ${bullmqMissing}`);

describe('examples: distributed-load', () => {
  const db = usePostgres();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-distributed-example-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const engine of bullmqMissing ? ['pg-boss'] : ['pg-boss', 'bullmq']) it(`loads every row exactly once with 3 workers on ${engine}, though one is SIGKILLed at a random moment`, async function () {
    this.timeout(90_000);
    const table = `tickets_${engine.replace('-', '')}`;
    const SPLITS = 24;
    const input = join(dir, 'in.csv');
    await writeParkingCsv(input, { rows: 20_000, seed: 7 });
    // The moment: after a random delay of up to 300 ms, once a random number of splits (0 to
    // half of them) have committed, a random live worker — starting up, planning's
    // neighbour, mid-split or between splits, whichever that lands on.
    const moment = { committed: Math.floor(Math.random() * (SPLITS / 2 + 1)), delayMs: Math.floor(Math.random() * 300) };
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/distributed-load.ts'), input, table, '--workers', '3', '--engine', engine, '--splits', String(SPLITS), '--expire', '2'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: db.url, PGBOSS_SCHEMA: db.schema, BULLMQ_PREFIX: prefix, REDIS_URL, SLUICE_PG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const live = () => [...stderr.matchAll(/worker (\d+) started/g)].map((m) => Number(m[1])).filter((pid) => {
      try {
        return process.kill(pid, 0);
      } catch {
        return false;
      }
    });
    const committed = async () => {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.schema}.sluice_split_done WHERE job = $1`, [`load-${table}`]).catch(() => ({ rows: [{ n: 0 }] }));
      return rows[0].n;
    };
    const exited = once(child, 'exit') as Promise<[number | null]>;
    let victim: number | undefined;
    const kill = (async () => {
      // The random delay first, then the commit count: the kill follows the count at once, so
      // with half the splits or fewer committed some worker is surely still alive (a delay
      // after the count let a fast load finish first, leaving nobody to kill).
      while (live().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, moment.delayMs));
      while ((await committed()) < moment.committed) await new Promise((resolve) => setTimeout(resolve, 5));
      const pids = live();
      victim = pids[Math.floor(Math.random() * pids.length)];
      process.kill(victim, 'SIGKILL');
    })();
    const [code] = await exited;
    await kill;
    if (engine === 'bullmq') {
      const queues = distributed.bullmq(REDIS_URL, { prefix });
      await queues.obliterate(`load-${table}`);
      await queues.close();
    }
    const at = `killed worker ${victim} at ${JSON.stringify(moment)}\n${stderr}`;
    expect(code, at).to.equal(0);
    // Replaced — unless the kill came as the others finished the last splits (the killed
    // worker had none then): a random moment may land there.
    expect(stderr.match(/a worker ended \(SIGKILL\); (starting another|the load is done, none needed in its place)\n/g), at).to.have.length(1);
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary, at).to.deep.equal({ rows: 20_000, splits: SPLITS, attempts: summary.attempts, rejected: 0 });
    expect(summary.attempts, at).to.be.within(SPLITS, SPLITS + 1); // the killed worker's split, if it had one, ran again
    const { rows } = await db.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT "Summons Number") AS d FROM ${db.schema}.${table}`);
    expect(rows[0], at).to.deep.equal({ n: '20000', d: '20000' });
  });

  it('refuses a count that is not a whole number from 1 up, naming the flag, before it connects anywhere', async () => {
    for (const [flag, value] of [['--splits', '0'], ['--expire', 'soon'], ['--workers', '1.5']]) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/distributed-load.ts'), 'in.csv', 'tickets', flag, value], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      const [code] = (await once(child, 'exit')) as [number];
      expect(code, flag).to.not.equal(0);
      expect(stderr.split('\n')[0], flag).to.equal(`distributed-load: ${flag} must be a whole number from 1 up, got '${value}'`);
    }
  });
});
