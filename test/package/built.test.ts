import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

// The same tiny pipeline through the built package, by its own name (self-reference via
// the `exports` map), from an ES module and from CommonJS.
const pipeline = `
  const out = [];
  const summary = await run([' a', 'b ', 'c'], map((s) => s.trim()), filter((s) => s !== 'b'), tap((s) => out.push(s)));
  console.log(JSON.stringify({ out, read: summary.read, written: summary.written, filtered: summary.filtered, csv: typeof csv.read }));
`;
const expected = { out: ['a', 'c'], read: 3, written: 2, filtered: 1, csv: 'function' };

describe('the built package', () => {
  before(() => {
    if (!existsSync(`${root}dist/esm/index.js`) || !existsSync(`${root}dist/cjs/index.js`)) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    }
  });

  it('works with import from an ES module', async () => {
    const code = `import { run, map, filter, tap, csv } from 'sluice';\n${pipeline}`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal(expected);
  });

  it('works with require from CommonJS', async () => {
    const code = `const { run, map, filter, tap, csv } = require('sluice');\n(async () => {${pipeline}})().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await exec(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal(expected);
  });

  it('a failed-item marker made by the CommonJS copy is understood by the ES module copy, both loaded (TESTPLAN D25)', async () => {
    const code = `
      import { createRequire } from 'node:module';
      import { run, callService } from 'sluice';
      const cjs = createRequire(import.meta.url)('sluice');
      const rejects = [];
      const fn = (rows) => rows.map((r) => (r === 2 ? cjs.itemFailed('no such plate') : r * 10));
      const summary = await run([1, 2, 3], callService(fn, { onError: 'reject' }), { rejects: (r) => void rejects.push([r.row, r.reason]) });
      console.log(JSON.stringify({ written: summary.written, rejects }));`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    expect(JSON.parse(stdout)).to.deep.equal({ written: 2, rejects: [[2, 'no such plate (not retryable)']] });
  });

  it('ships type declarations for both', () => {
    expect(existsSync(`${root}dist/esm/index.d.ts`)).to.equal(true);
    expect(existsSync(`${root}dist/cjs/index.d.ts`)).to.equal(true);
  });
});
