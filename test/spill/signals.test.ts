import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { tempDir } from '../helpers/files.js';

const root = new URL('../..', import.meta.url).pathname;

describe('spill folders on SIGINT and SIGTERM (TESTPLAN G34)', function () {
  this.timeout(30_000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`a ${signal} mid-sort removes the folder and the process still ends by the signal`, async () => {
      const tmp = await tempDir('sluice-signal-test-');
      try {
        // A child that sorts an endless input with a tiny budget, and says when it has spilled.
        const script = `
          import { Readable, Writable } from 'node:stream';
          import { pipeline } from 'node:stream/promises';
          import { sort } from '${root}lib/index.ts';
          let i = 0;
          const source = new Readable({ objectMode: true, read() { setImmediate(() => this.push([i++ % 1000, 'x'])); } });
          const stage = sort(0, { memory: 2000, tmpDir: ${JSON.stringify(tmp.path)} });
          const timer = setInterval(() => { if (stage.runsWritten >= 3) { process.stdout.write('spilled\\n'); clearInterval(timer); } }, 5);
          await pipeline(source, stage, new Writable({ objectMode: true, write(_r, _e, cb) { cb(); } }));
        `;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
        const [first] = (await once(child.stdout, 'data')) as [Buffer];
        expect(first.toString()).to.equal('spilled\n');
        expect(await readdir(tmp.path)).to.have.length(1);
        child.kill(signal);
        const [code, by] = (await once(child, 'exit')) as [number | null, string | null];
        expect({ code, by }).to.deep.equal({ code: null, by: signal });
        expect(await readdir(tmp.path)).to.deep.equal([]);
      } finally {
        await tmp.remove();
      }
    });
  }
});
