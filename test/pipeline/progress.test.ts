import { expect } from 'chai';
import { statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { csv, map, pipe, run, type Progress } from '../../lib/index.js';
import { ProgressReporter } from '../../lib/pipeline/progress.js';
import { numberedCsv, tempDir, type TempDir } from '../helpers/files.js';

const sink = () => new Writable({ objectMode: true, write: (_row, _e, cb) => cb() });

/** Issue 12 §9: run(…, { progress, progressMs }). */
describe('run() progress', () => {
  let dir: TempDir;
  let file: string;
  before(async () => {
    dir = await tempDir('sluice-progress-');
    file = await dir.write('rows.csv', numberedCsv(50_000));
  });
  after(() => dir.remove());

  it('reports rows and bytes of the file as they are read, then a last snapshot equal to the summary', async () => {
    const seen: Progress[] = [];
    const summary = await run(csv.read(file), map((row: string[]) => row), sink(), { progress: (p) => void seen.push(p), progressMs: 0 });
    const size = statSync(file).size;
    expect(seen.length).to.be.above(3);
    const last = seen[seen.length - 1];
    expect(last).to.include({ read: summary.read, written: summary.written, rejected: 0, bytesRead: size, bytesTotal: size, etaMs: 0, done: true });
    expect(seen.slice(0, -1).every((p) => !p.done && p.bytesTotal === size && typeof p.etaMs === 'number')).to.equal(true);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].read).to.be.at.least(seen[i - 1].read);
      expect(seen[i].bytesRead!).to.be.at.least(seen[i - 1].bytesRead!);
      expect(seen[i].written).to.be.at.most(seen[i].read);
    }
  });

  it('a long progressMs: only the final call; a source without bytes reports no byte fields', async () => {
    const seen: Progress[] = [];
    const summary = await run(Array.from({ length: 1000 }, (_, i) => i), sink(), { progress: (p) => void seen.push(p), progressMs: 1e9 });
    expect(seen).to.have.length(1);
    expect(seen[0]).to.include({ read: 1000, written: 1000, rejected: 0, done: true });
    expect(seen[0]).to.not.have.any.keys('bytesRead', 'bytesTotal', 'etaMs');
    expect(summary.written).to.equal(1000);
  });

  it('a failing run still makes its final call (done), then rejects', async () => {
    const seen: Progress[] = [];
    const failing = map((n: number) => {
      if (n === 10) throw new Error('boom');
      return n;
    });
    const error = await run(Array.from({ length: 100 }, (_, i) => i), failing, sink(), { progress: (p) => void seen.push(p), progressMs: 1e9 }).then(() => null, (e: Error) => e);
    expect(error?.message).to.contain('boom');
    expect(seen.map((p) => p.done)).to.deep.equal([true]);
  });

  it('a progress callback that throws fails the run with its error', async () => {
    const error = await run(Array.from({ length: 100 }, (_, i) => i), sink(), {
      progress: (p) => {
        if (!p.done) throw new Error('bad progress');
      },
      progressMs: 0,
    }).then(() => null, (e: Error) => e);
    expect(error?.message).to.equal('bad progress');
  });

  it('invalid values are TypeErrors; pipe() does not take progress', async () => {
    const rejection = (promise: Promise<unknown>) => promise.then(() => null, (e: Error) => e);
    expect(await rejection(run([1], sink(), { progress: 'yes' as never }))).to.be.instanceOf(TypeError).with.property('message', 'run(): expected `progress` to be a function, got `yes` (string)');
    expect(await rejection(run([1], sink(), { progress: () => {}, progressMs: -1 }))).to.be.instanceOf(TypeError).with.property('message', 'run(): expected `progressMs` to be an integer from 0 and up, got `-1` (number)');
    expect(() => pipe([1], map((n: number) => n), { progress: () => {} })).to.throw(TypeError, 'pipe(): expected `progress` to be not set for pipe() (run() reports progress)');
  });

  it('ProgressReporter with a fake clock: at most one call per progressMs, rows/s from the rate so far', () => {
    let now = 0;
    let read = 0;
    const calls: Progress[] = [];
    const reporter = new ProgressReporter((p) => void calls.push(p), 1000, { read: () => read, written: () => read, rejected: () => 0 }, null, 0, () => now);
    for (const [t, r] of [[0, 1], [500, 50], [999, 99], [1000, 100], [1500, 150], [2000, 200], [2001, 201]]) {
      now = t;
      read = r;
      reporter.tick();
    }
    now = 2500;
    reporter.end();
    expect(calls.map((p) => [p.elapsedMs, p.read, p.rowsPerSecond, p.done])).to.deep.equal([[1000, 100, 100, false], [2000, 200, 100, false], [2500, 201, 80, true]]);
  });
});
