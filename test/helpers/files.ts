/**
 * Temporary files and file-descriptor accounting for the pipeline and CSV tests.
 * Each suite makes one directory with `tempDir()` in `before` and removes it in `after`.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempDir {
  readonly path: string;
  /** A path inside the directory (the file is not created). */
  file(name: string): string;
  /** Writes `content` to a new file in the directory and returns its path. */
  write(name: string, content: string | Buffer): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(prefix = 'sluice-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    async write(name, content) {
      const file = join(path, name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

export const readText = (file: string): Promise<string> => readFile(file, 'utf8');

/**
 * Open file descriptors of this process that point at files under `dir` (Linux). Counting
 * only our own directory keeps the number independent of whatever else mocha has open.
 */
export function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink (e.g. the readdir's own fd)
    }
    if (target.startsWith(dir)) open.push(target);
  }
  return open;
}

/** A CSV file body: `header` then `count` rows `i,name<i>` (LF line ends, trailing LF). */
export function numberedCsv(count: number, header = 'id,name'): string {
  let text = `${header}\n`;
  for (let i = 1; i <= count; i++) text += `${i},name${i}\n`;
  return text;
}

/**
 * For a describe block of stages that spill: a fresh temp folder for their `tmpDir`, checked
 * after each test to hold nothing (no spill folder left, no file open under it).
 */
export function spillDirPerSuite(prefix: string): { readonly path: string } {
  let dir: TempDir | undefined;
  before(async () => {
    dir = await tempDir(prefix);
  });
  afterEach(async () => {
    if (!dir) return;
    const left = await readdir(dir.path);
    if (left.length > 0) throw new Error(`spill folders left behind in ${dir.path}: ${left.join(', ')}`);
    const open = openFilesUnder(dir.path);
    if (open.length > 0) throw new Error(`files left open: ${open.join(', ')}`);
  });
  after(() => dir?.remove());
  return { get path() { if (!dir) throw new Error('used outside its describe block'); return dir.path; } };
}
