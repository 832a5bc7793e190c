import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const module = fileURLToPath(new URL('./fixtures/upper.js', import.meta.url));

// parallel.map from the built package (dist/, plain Node, no tsx): its workers load the
// built worker.js beside it, from an ES module and from CommonJS.
const pipeline = `
  const out = [];
  const stage = parallel.map(${JSON.stringify(module)}, { threads: 2, batchBytes: 16 });
  const summary = await run([['a', 'b'], ['c', 'd'], ['e', 'f']], stage, tap((row) => out.push(row)));
  console.log(JSON.stringify({ out, written: summary.written, batches: stage.stats.batches }));
`;
const expected = { out: [['A', 'B'], ['C', 'D'], ['E', 'F']], written: 3, batches: 3 };

describe('parallel.map in the built package', () => {
  before(() => {
    if (!existsSync(`${root}dist/esm/index.js`) || !existsSync(`${root}dist/cjs/index.js`)) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    }
  });

  it('runs a .js module on worker threads from an ES module', async () => {
    const code = `import { run, tap, parallel } from 'sluice';\n${pipeline}`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal(expected);
  });

  it('runs a .js module on worker threads from CommonJS', async () => {
    const code = `const { run, tap, parallel } = require('sluice');\n(async () => {${pipeline}})().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await exec(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal(expected);
  });
});
