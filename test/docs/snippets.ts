/**
 * The TypeScript code blocks of the README and docs/, and one TypeScript program that
 * type-checks them all against the package's source (used by snippets.test.ts).
 *
 * - A block is a fenced block opened by ```ts or ```typescript (the fence may be indented,
 *   e.g. inside a list item; its indentation is removed from the block's lines).
 * - Every block is written as a module of its own into a temporary directory, next to a
 *   tsconfig.json with the repository's compiler options (strict, module NodeNext) plus
 *   `paths` mapping `sluice` to lib/index.ts, and a `node_modules` link to the
 *   repository's, so `pg` and `@types/node` resolve as in a project that installed sluice.
 *   tsx reads the same tsconfig, so a block can also be run from there.
 * - The library's own ambient declarations (the .d.ts files its tsconfig.json includes)
 *   are part of the program, as in its build.
 * - A block whose first line is `// fragment` is deliberately incomplete: it is not
 *   compiled, and the test names every such block.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import ts from 'typescript';

export const FRAGMENT = '// fragment';

export interface Block {
  /** The Markdown file, relative to the repository (`README.md`, `docs/csv.md`). */
  file: string;
  /** 1-based line in that file of the block's first line of code (the line after the fence). */
  line: number;
  code: string;
  fragment: boolean;
}

const OPEN = /^(\s*)```(?:ts|typescript)\s*$/;
const CLOSE = /^\s*```\s*$/;

/** The TypeScript blocks of one Markdown text. */
export function extractBlocks(file: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !CLOSE.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: a \`\`\`ts block is never closed`);
    const code = lines.slice(start, end).map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join('\n') + '\n';
    blocks.push({ file, line: start + 1, code, fragment: code.trimStart().startsWith(FRAGMENT) });
    i = end;
  }
  return blocks;
}

/** README.md and every docs/*.md, in that order. */
export function markdownFiles(root: string): string[] {
  const docs = existsSync(join(root, 'docs')) ? readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort() : [];
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Every block of those files (read synchronously: mocha needs the list to declare the tests). */
export function allBlocks(root: string): Block[] {
  return markdownFiles(root).flatMap((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')));
}

export interface Problem {
  /** Where in the Markdown: `docs/csv.md:42`. */
  at: string;
  code: number;
  message: string;
}

export interface Workspace {
  dir: string;
  /** The module written for a block. */
  fileOf(block: Block): string;
  remove(): Promise<void>;
}

const moduleName = (block: Block, index: number) =>
  `${String(index).padStart(3, '0')}-${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${block.line}.ts`;

/**
 * A temporary directory with every block (fragments included, for the record) as a module,
 * a package.json (`"type": "module"`: top-level await), the tsconfig and node_modules.
 */
export async function workspace(root: string, blocks: readonly Block[]): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-snippets-'));
  const base = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, '\n'));
  // The library's own options (strict, NodeNext, …), without its output settings.
  const { rootDir: _rootDir, outDir: _outDir, declaration: _declaration, sourceMap: _sourceMap, ...options } = base.config.compilerOptions;
  const tsconfig = {
    compilerOptions: {
      ...options,
      noEmit: true,
      // A block without import or export is still a module of its own (no shared globals).
      moduleDetection: 'force',
      paths: { sluice: [join(root, 'lib', 'index.ts')] },
    },
    include: ['*.ts'],
  };
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  await symlink(await realpath(join(root, 'node_modules')), join(dir, 'node_modules'), 'dir');
  const names = new Map<Block, string>();
  await Promise.all(blocks.map((block, i) => {
    const name = join(dir, moduleName(block, i));
    names.set(block, name);
    return writeFile(name, block.code);
  }));
  return {
    dir,
    fileOf: (block) => names.get(block)!,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Type-checks the given blocks in one program (with the workspace's tsconfig) and returns
 * each block's problems; problems outside any block (in lib/, or global) under `null`.
 */
export function typeCheck(root: string, space: Workspace, blocks: readonly Block[]): Map<Block | null, Problem[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(space.dir, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('no tsconfig');
  const byFile = new Map(blocks.map((block) => [space.fileOf(block), block]));
  // The library's own ambient declarations (for modules that ship no types), as its build has them.
  const library = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const ambient = (library?.fileNames ?? []).filter((name) => name.endsWith('.d.ts'));
  const program = ts.createProgram({ rootNames: [...byFile.keys(), ...ambient], options: config.options });
  const problems = new Map<Block | null, Problem[]>([[null, []]]);
  for (const block of blocks) problems.set(block, []);
  for (const d of [...config.errors, ...ts.getPreEmitDiagnostics(program)]) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const block = d.file ? byFile.get(d.file.fileName) : undefined;
    if (block && d.file && d.start !== undefined) {
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      problems.get(block)!.push({ at: `${block.file}:${block.line + line}:${character + 1}`, code: d.code, message });
    } else {
      const where = d.file && d.start !== undefined ? `${relative(process.cwd(), d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : basename(space.dir);
      problems.get(null)!.push({ at: where, code: d.code, message });
    }
  }
  return problems;
}

export const describeProblem = (p: Problem) => `${p.at}: TS${p.code} ${p.message}`;
