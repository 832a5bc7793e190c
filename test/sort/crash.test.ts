import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sort } from '../../lib/index.js';
import { tempDir } from '../helpers/files.js';
import { collect } from '../helpers/streams.js';

const root = new URL('../..', import.meta.url).pathname;

describe('sort(): a process killed mid-sort (TESTPLAN G34)', () => {
  it("leaves files only in its own folder, which the next sort in the same tmpDir never reads", async () => {
    const tmp = await tempDir('sluice-crash-test-');
    try {
      // A child that sorts an endless input with a tiny budget, and says when it has spilled.
      const script = `
        import { Readable, Writable } from 'node:stream';
        import { pipeline } from 'node:stream/promises';
        import { sort } from '${root}lib/index.ts';
        let i = 0;
        const source = new Readable({ objectMode: true, read() { this.push([i++ % 1000, 'stale']); } });
        const stage = sort(0, { memory: 2000, tmpDir: ${JSON.stringify(tmp.path)} });
        const timer = setInterval(() => { if (stage.runsWritten >= 3) { process.stdout.write('spilled\\n'); clearInterval(timer); } }, 5);
        await pipeline(source, stage, new Writable({ objectMode: true, write(_r, _e, cb) { cb(); } }));
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      const [first] = (await once(child.stdout, 'data')) as [Buffer];
      expect(first.toString()).to.equal('spilled\n');
      child.kill('SIGKILL');
      await once(child, 'exit');
      const left = await readdir(tmp.path);
      expect(left).to.have.length(1);
      expect(left[0]).to.match(/^sluice-sort-/);
      expect((await readdir(`${tmp.path}/${left[0]}`)).length).to.be.greaterThan(0);

      const rows = Array.from({ length: 300 }, (_, n) => [300 - n, 'fresh']);
      const sink = collect<unknown[]>();
      const stage = sort(0, { memory: 2000, tmpDir: tmp.path });
      await pipeline(Readable.from(rows), stage, sink);
      expect(stage.runsWritten).to.be.greaterThan(1);
      expect(sink.rows).to.deep.equal([...rows].reverse());
      expect(await readdir(tmp.path)).to.deep.equal(left); // its own folder gone, the stale one untouched
    } finally {
      await tmp.remove();
    }
  });
});
