/**
 * Issue 12 §8: the package as npm would ship it. `npm pack` into a temporary folder, the
 * tarball unpacked into a scratch consumer project's node_modules, its dependencies linked
 * from this project's node_modules (offline: nothing is fetched, and this project's
 * node_modules is only read), then: ESM import, CommonJS require, `tsc --strict` with
 * `skipLibCheck: false` against the types of every supported Node release (20, 22, 24: the
 * dev dependencies `@types/node`, `@types/node-22`, `@types/node-24`), and the README's quick
 * start compiled and run on the demo's data.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { tempDir, type TempDir } from '../helpers/files.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const modules = join(root, 'node_modules');

describe('the packed tarball, installed into a consumer project', function () {
  this.timeout(60_000);
  let dir: TempDir;
  let consumer: string;
  let files: string[];

  before(async () => {
    dir = await tempDir('sluice-packed-');
    // --ignore-scripts: dist/ is built already (npm test builds first); prepack would build again.
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir.path], { cwd: root });
    const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    files = packed.files.map((f) => f.path);
    consumer = join(dir.path, 'consumer');
    const installed = join(consumer, 'node_modules', 'sluice');
    await mkdir(installed, { recursive: true });
    await exec('tar', ['-xzf', join(dir.path, packed.filename), '-C', installed, '--strip-components=1']);
    // What npm would install for it, from the local copies: its dependencies and, for the
    // TypeScript check, Node 20's types.
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of [...Object.keys(manifest.dependencies), '@types/node']) {
      await mkdir(join(consumer, 'node_modules', name, '..'), { recursive: true });
      await symlink(join(modules, name), join(consumer, 'node_modules', name), 'dir');
    }
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  });
  after(() => dir.remove());

  it('ships dist, the sources its maps point at, LICENSE and README; no tests, no private flag', async () => {
    expect(files).to.include.members(['LICENSE', 'README.md', 'package.json', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/package.json', 'lib/index.ts']);
    expect(files.filter((f) => !/^(dist|lib)\//.test(f)).sort()).to.deep.equal(['LICENSE', 'README.md', 'package.json']);
    expect(files.some((f) => f.includes('.test.'))).to.equal(false);
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).to.equal(undefined);
    expect(manifest.license).to.equal('MIT');
    expect(await readFile(join(root, 'LICENSE'), 'utf8')).to.contain('Copyright (c) 2026 the sluice authors');
    // Every source map's sources are in the tarball.
    const missing = new Set<string>();
    for (const map of files.filter((f) => f.endsWith('.js.map'))) {
      const { sources } = JSON.parse(await readFile(join(consumer, 'node_modules', 'sluice', map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const resolved = join(map, '..', source);
        if (!files.includes(resolved)) missing.add(resolved);
      }
    }
    expect([...missing]).to.deep.equal([]);
  });

  const pipeline = `const summary = await run([' a', 'b '], map((s) => s.trim()), filter((s) => s !== 'b'));\nconsole.log(JSON.stringify(summary.written));`;

  it('import from an ES module', async () => {
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', `import { run, map, filter } from 'sluice';\n${pipeline}`], { cwd: consumer });
    expect(stdout.trim()).to.equal('1');
  });

  it('require from CommonJS', async () => {
    const code = `const { run, map, filter } = require('sluice');\n(async () => { ${pipeline} })().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await exec(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: consumer });
    expect(stdout.trim()).to.equal('1');
  });

  /** The quick start, compiled by `tsc --strict` with `skipLibCheck: false` against `types` (a folder of node_modules/@types). */
  async function compileQuickStart(types: string): Promise<string> {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const quickStart = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('console.log(summary)'));
    expect(quickStart, 'the README quick start').to.be.a('string');
    await writeFile(join(consumer, 'quick-start.ts'), quickStart!);
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], outDir: 'out' },
      files: ['quick-start.ts'],
    }));
    const linked = join(consumer, 'node_modules', '@types', 'node');
    await rm(linked);
    await symlink(join(modules, '@types', types), linked, 'dir');
    const installed = JSON.parse(await readFile(join(linked, 'package.json'), 'utf8')) as { version: string };
    const tsc = join(modules, 'typescript', 'bin', 'tsc');
    const errors = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).then(() => '', (e: { stdout: string }) => e.stdout);
    return `${installed.version.split('.')[0]}: ${errors}`;
  }

  for (const [release, types] of [['22', 'node-22'], ['24', 'node-24']]) {
    it(`the README quick start compiles with tsc --strict and skipLibCheck: false against Node ${release}'s types`, async () => {
      expect(await compileQuickStart(types!)).to.equal(`${release}: `);
    });
  }

  it("the README quick start compiles the same against Node 20's types, and runs on the demo's data", async () => {
    expect(await compileQuickStart('node')).to.equal('20: ');
    await mkdir(join(consumer, 'data'));
    await writeParkingCsv(join(consumer, 'data', 'parking-200000.csv'), { rows: 200_000, seed: 1 });
    const { stdout } = await exec(process.execPath, [join('out', 'quick-start.js')], { cwd: consumer });
    const shown = Object.fromEntries([...stdout.matchAll(/(\w+): (\w+)/g)].filter(([, key]) => key !== 'ms').map(([, key, value]) => [key, value]));
    expect(shown).to.deep.equal({ read: '200000', written: '197', filtered: '199803', rejected: '0', stoppedEarly: 'false' });
    expect(await readdir(join(consumer, 'data'))).to.include('quick-start.csv');
  });
});
