import { expect } from 'chai';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sort } from '../../lib/index.js';
import { tempDir } from '../helpers/files.js';
import { spillingChild } from '../helpers/spilling-child.js';
import { collect } from '../helpers/streams.js';

describe('sort(): a process killed mid-sort (TESTPLAN G34)', () => {
  it("leaves files only in its own folder, which the next sort in the same tmpDir never reads", async () => {
    const tmp = await tempDir('sluice-crash-test-');
    try {
      const child = await spillingChild(tmp.path);
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
