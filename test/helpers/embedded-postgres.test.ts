// An embedded PostgreSQL that cannot start: every PostgreSQL suite fails at once with the
// cause and a hint, with no uncaught error, no hook timeout, no crashing after() hook and
// nothing left in the temporary directory. The test runs this same file in a child mocha
// (with the project's config, so the leak gate) with SLUICE_PG_FIXTURE=start-failure, where
// it is the fixture instead: suites shaped like the PostgreSQL test files, started on
// binaries that cannot work (SLUICE_PG_NATIVE).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type pg from 'pg';
import { usePostgres } from './postgres.js';

const root = new URL('../..', import.meta.url).pathname;
const self = fileURLToPath(import.meta.url);

if (process.env.SLUICE_PG_FIXTURE === 'start-failure') {
  describe('fixture: a suite whose before() makes a pool', () => {
    const db = usePostgres();
    let pool: pg.Pool;
    before(() => {
      pool = db.pool();
    });
    it('never runs', () => pool.query('SELECT 1'));
  });

  describe('fixture: a suite whose before() queries', () => {
    const db = usePostgres();
    before(() => db.query('SELECT 1'));
    it('never runs', () => {});
  });

  describe('fixture: a suite whose after() undoes what its before() made', () => {
    const db = usePostgres();
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-fixture-'));
    });
    after(() => rmSync(dir, { recursive: true }));
    it('never runs', () => db.query('SELECT 1'));
    describe('nested', () => {
      it('never runs either', () => db.url);
    });
  });
} else {
  /** Runs this file as the fixture, on the binaries in `native`, with `tmp` as TMPDIR. */
  function fixture(native: string, tmp: string): Promise<{ code: number | null; output: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['node_modules/mocha/bin/mocha.js', self], {
        cwd: root,
        env: { ...process.env, SLUICE_PG: 'embedded', SLUICE_PG_NATIVE: native, SLUICE_PG_FIXTURE: 'start-failure', TMPDIR: tmp },
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output, ms: Date.now() - started }));
    });
  }

  /** What the child left in its TMPDIR besides the binaries it was given (and tsx's cache). */
  const leftovers = async () => (await readdir(dir)).filter((name) => name !== 'native' && !name.startsWith('tsx-'));
  const count = (text: string, part: string) => text.split(part).length - 1;

  let dir: string;

  describe('an embedded PostgreSQL that cannot start', function () {
    this.timeout(30_000);

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-pg-broken-'));
      await chmod(dir, 0o755); // as root, the server's directory is made in it for the postgres user
      for (const sub of ['bin', 'lib', 'share']) await mkdir(join(dir, 'native', sub), { recursive: true });
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    function expectFastFailure({ code, output, ms }: { code: number | null; output: string; ms: number }, cause: string[]): void {
      expect(code, output).to.equal(3);
      expect(output).to.include('0 passing').and.include('3 failing');
      // Each suite fails once, on its first hook that needs the server, with the reason.
      expect(count(output, 'embedded PostgreSQL did not start: '), output).to.equal(3);
      for (const part of cause) expect(count(output, part), output).to.be.at.least(3);
      expect(count(output, 'Hint: '), output).to.equal(3);
      expect(output).to.include('DATABASE_URL');
      expect(output).to.not.match(/Uncaught|Timeout of|"after all" hook|unhandled rejection|leaked handles/);
      expect(ms, output).to.be.below(15_000);
    }

    it('a program that cannot be run (spawn EACCES): each suite fails at once with the cause and a hint, nothing left behind', async () => {
      await mkdir(join(dir, 'native', 'bin', 'initdb')); // a directory: spawn fails with EACCES, as for anyone's unreachable binary
      const result = await fixture(join(dir, 'native'), dir);
      expectFastFailure(result, ['spawn ', 'initdb EACCES']);
      expect(await leftovers()).to.deep.equal([]);
    });

    it('initdb fails: the same, with what it printed', async () => {
      await writeFile(join(dir, 'native', 'bin', 'initdb'), '#!/bin/sh\necho "initdb: error: simulated failure" >&2\nexit 1\n', { mode: 0o755 });
      const result = await fixture(join(dir, 'native'), dir);
      expectFastFailure(result, ['initdb failed (exit code 1', 'initdb: error: simulated failure']);
      expect(await leftovers()).to.deep.equal([]);
    });
  });
}
