/**
 * The documentation's code compiles: every ```ts block of README.md and docs/*.md is
 * type-checked as a module of its own, against the package (`import … from 'sluice'` is
 * lib/index.ts), in one TypeScript program — so a snippet using a name it did not import,
 * or an option that does not exist, fails here. A block starting with `// fragment` is
 * skipped (and named in the output). The README's quick start is also run, verbatim, on
 * the demo's sample data, and must print what the README says it prints.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeParkingCsv } from '../../examples/sample-data.js';
import { allBlocks, describeProblem, extractBlocks, markdownFiles, typeCheck, workspace, type Block, type Problem, type Workspace } from './snippets.js';

const exec = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** Not documentation: a snippet with a name it did not import, which must fail. */
const canary: Block = {
  file: '(canary)',
  line: 1,
  code: "import { run, csv } from 'sluice';\nawait run(csv.read('in.csv'), addColumn('days', () => 1), csv.write('out.csv'));\n",
  fragment: false,
};

const blocks = allBlocks(root);
const checked = blocks.filter((b) => !b.fragment);
const fragments = blocks.filter((b) => b.fragment);

describe('the code in README.md and docs/', function () {
  this.timeout(60_000);
  let space: Workspace;
  let problems: Map<Block | null, Problem[]>;

  before(async () => {
    space = await workspace(root, [...blocks, canary]);
    problems = typeCheck(root, space, [...checked, canary]);
    const files = new Set(blocks.map((b) => b.file));
    console.log(`      ${checked.length} TypeScript blocks type-checked, from ${files.size} of ${markdownFiles(root).length} Markdown files; ${fragments.length} fragment(s) skipped` +
      fragments.map((b) => `\n        fragment: ${b.file}:${b.line}`).join(''));
  });

  after(() => space?.remove());

  it('has TypeScript blocks in the README and in docs/', () => {
    expect(checked.filter((b) => b.file === 'README.md')).to.not.be.empty;
    expect(checked.filter((b) => b.file.startsWith('docs/'))).to.not.be.empty;
  });

  it('compiles the blocks without a problem outside them (lib/, options)', () => {
    expect(problems.get(null)!.map(describeProblem)).to.deep.equal([]);
  });

  for (const block of checked) {
    it(`${block.file}:${block.line} compiles`, () => {
      const found = problems.get(block)!;
      if (found.length > 0) expect.fail(`${found.length} problem(s) in the block at ${block.file}:${block.line}:\n${found.map(describeProblem).join('\n')}`);
    });
  }

  it('would catch a snippet using a name it did not import', () => {
    expect(problems.get(canary)!.map(describeProblem)).to.deep.equal(["(canary):2:31: TS2304 Cannot find name 'addColumn'."]);
  });

  it('finds indented blocks, both fence names, and fragments', () => {
    const found = extractBlocks('x.md', 'a\n```ts\nconst a = 1;\n```\n- item\n  ```typescript\n  // fragment\n  b;\n  ```\n```sh\nls\n```\n');
    expect(found).to.deep.equal([
      { file: 'x.md', line: 3, code: 'const a = 1;\n', fragment: false },
      { file: 'x.md', line: 7, code: '// fragment\nb;\n', fragment: true },
    ]);
  });

  describe('the README quick start', () => {
    const quickStart = blocks.find((b) => b.file === 'README.md' && b.code.includes('console.log(summary)'));

    it('runs verbatim on the sample data `npm run demo` generates, and prints the summary the README shows', async function () {
      if (!quickStart) expect.fail('no README block with console.log(summary)');
      // `npm run demo` writes data/parking-200000.csv (200,000 rows, seed 1) in the
      // directory it is run from; here that directory is the workspace.
      const path = quickStart.code.match(/csv\.read\('([^']+)'/)?.[1];
      expect(path, 'the quick start reads the demo file').to.equal('data/parking-200000.csv');
      await mkdir(join(space.dir, 'data'), { recursive: true });
      await writeParkingCsv(join(space.dir, path!), { rows: 200_000, seed: 1 });
      const { stdout } = await exec(process.execPath, ['--import', 'tsx', space.fileOf(quickStart)], { cwd: space.dir });
      // The README's comment after console.log(summary): `// { read: 200000, written: 197, … }`.
      const shown = quickStart.code.match(/console\.log\(summary\);\n\/\/ (\{.*\})/)?.[1];
      if (!shown) expect.fail('the quick start shows no `// { … }` output after console.log(summary)');
      const parse = (text: string) => Object.fromEntries([...text.matchAll(/(\w+): (\w+)/g)].filter(([, key]) => key !== 'ms').map(([, key, value]) => [key, value]));
      expect(parse(stdout)).to.deep.equal(parse(shown));
      const output = quickStart.code.match(/csv\.write\('([^']+)'/)?.[1];
      const lines = (await readFile(join(space.dir, output!), 'utf8')).trimEnd().split('\n');
      expect(lines.length - 1).to.equal(Number(parse(stdout).written));
    });
  });
});
