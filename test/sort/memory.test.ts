import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/files.js';

const root = new URL('../..', import.meta.url).pathname;
const ROWS = 1_500_000;

describe("sort(): memory, in a child process (memory: '64MB')", function () {
  this.timeout(90_000);

  it(`sorts ${ROWS.toLocaleString('en-US')} generated rows (several runs) with peak RSS under 160 MB, at most the budget plus 20 MB over the same pipeline without the sort`, async () => {
    const tmp = await tempDir('sluice-memory-test-');
    const spill = await tempDir('sluice-memory-spill-');
    try {
      // A generator source (no file): small rows, keys in a scrambled order; the sink checks
      // the order and the count, then the child reports its peak RSS and what the sort spilled.
      const script = `
        import { Readable, Writable } from 'node:stream';
        import { map, run, sort } from '${root}lib/index.ts';
        const [tmpDir, mode] = process.argv.slice(2);
        function* rows() {
          for (let i = 0; i < ${ROWS}; i++) yield [(i * 2654435761) % 4294967291, 'row ' + i, i & 1 ? 'odd' : 'even'];
        }
        // 'floor': the same rows through a stage passing them on (what the pipeline costs without the sort).
        const stage = mode === 'floor' ? Object.assign(map((row) => row), { runsWritten: 0 }) : sort(0, { memory: '64MB', tmpDir });
        let count = 0, last = -1, ordered = mode !== 'floor';
        await run(Readable.from(rows()), stage, new Writable({ objectMode: true, write(row, _e, cb) {
          if (row[0] < last) ordered = false;
          last = row[0];
          count++;
          cb();
        } }));
        process.stdout.write(JSON.stringify({ count, ordered, runs: stage.runsWritten, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
      `;
      // Bundled to plain JavaScript first (what a user of the built package runs): tsx's
      // loader in the child would add its own memory to what is measured.
      const entry = await tmp.write('sort-memory.ts', script);
      const bundle = tmp.file('sort-memory.mjs');
      await promisify(execFile)(`${root}node_modules/.bin/esbuild`, [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=error']);
      const report = await child(bundle, spill.path, 'sort');
      expect(report).to.include({ count: ROWS, ordered: true });
      expect(report.runs).to.be.greaterThan(1);
      expect(report.peakRssMb, `peak RSS ${report.peakRssMb.toFixed(0)} MB`).to.be.below(160);
      expect(await readdir(spill.path)).to.deep.equal([]);
      // What the sort itself holds: its budget counts its runs' buffers, positions, keys and
      // index, so over the pipeline without it the process grows by about the budget alone.
      const floor = await child(bundle, spill.path, 'floor');
      expect(floor).to.include({ count: ROWS, runs: 0 });
      const over = report.peakRssMb - floor.peakRssMb;
      expect(over, `peak RSS ${report.peakRssMb.toFixed(0)} MB, ${floor.peakRssMb.toFixed(0)} MB without the sort`).to.be.below(64 + 20);
    } finally {
      await tmp.remove();
      await spill.remove();
    }
  });
});

interface Report { count: number; ordered: boolean; runs: number; peakRssMb: number }

async function child(bundle: string, spillPath: string, mode: 'sort' | 'floor'): Promise<Report> {
  const running = spawn(process.execPath, [bundle, spillPath, mode], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  running.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(running, 'exit')) as [number];
  expect(code).to.equal(0);
  return JSON.parse(out) as Report;
}
