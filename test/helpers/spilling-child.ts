/**
 * A child process that sorts an endless input with a tiny budget in `tmpDir`, resolved once
 * it has spilled three runs (for the kill and signal tests of spill folders, TESTPLAN G34).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const root = new URL('../..', import.meta.url).pathname;

export async function spillingChild(tmpDir: string): Promise<ChildProcess> {
  const script = `
    import { Readable, Writable } from 'node:stream';
    import { pipeline } from 'node:stream/promises';
    import { sort } from '${root}lib/index.ts';
    let i = 0;
    const source = new Readable({ objectMode: true, read() { setImmediate(() => this.push([i++ % 1000, 'x'])); } });
    const stage = sort(0, { memory: 2000, tmpDir: ${JSON.stringify(tmpDir)} });
    const timer = setInterval(() => { if (stage.runsWritten >= 3) { process.stdout.write('spilled\\n'); clearInterval(timer); } }, 5);
    await pipeline(source, stage, new Writable({ objectMode: true, write(_r, _e, cb) { cb(); } }));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const [first] = (await once(child.stdout!, 'data')) as [Buffer];
  if (first.toString() !== 'spilled\n') throw new Error(`the sorting child said ${JSON.stringify(first.toString())}`);
  return child;
}
