import { expect } from 'chai';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { tempDir } from '../helpers/files.js';
import { spillingChild } from '../helpers/spilling-child.js';

describe('spill folders on SIGINT and SIGTERM (TESTPLAN G34)', function () {
  this.timeout(30_000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`a ${signal} mid-sort removes the folder and the process still ends by the signal`, async () => {
      const tmp = await tempDir('sluice-signal-test-');
      try {
        const child = await spillingChild(tmp.path);
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
