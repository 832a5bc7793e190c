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
    const last = seen[seen.length - 1];
    expect(last).to.include({ read: summary.read, written: summary.written, rejected: 0, bytesRead: size, bytesTotal: size, etaMs: 0, done: true });
    // Reports come from a timer, so the first may come before the file is open; from the first row on, each has the size and an ETA.
    const underway = seen.slice(0, -1).filter((p) => p.read > 0);
    expect(underway.length).to.be.above(3);
    expect(underway.every((p) => !p.done && p.bytesTotal === size && typeof p.etaMs === 'number')).to.equal(true);
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
    let calledBack!: () => void;
    const called = new Promise<void>((resolve) => (calledBack = resolve));
    // The source waits for the first report, so the callback surely runs mid-pipeline.
    async function* rows() {
      yield 1;
      await called;
      for (let i = 2; i <= 100; i++) yield i;
    }
    const error = await run(rows(), sink(), {
      progress: (p) => {
        if (p.done) return;
        calledBack();
        throw new Error('bad progress');
      },
      progressMs: 0,
    }).then(() => null, (e: Error) => e);
    expect(error?.message).to.equal('bad progress');
  });

  it('a stalled pipeline goes on reporting: read stays, stalledMs grows (before: no report until the next row)', async () => {
    const seen: Progress[] = [];
    let stallSeen!: () => void;
    const stalled = new Promise<void>((resolve) => (stallSeen = resolve));
    // One row, then nothing until three reports have come during the stall.
    async function* rows() {
      yield 'first';
      await stalled;
      yield 'second';
    }
    const summary = await run(rows(), sink(), {
      progress: (p) => {
        seen.push(p);
        if (seen.filter((s) => s.read === 1 && s.stalledMs > 0).length === 3) stallSeen();
      },
      progressMs: 5,
    });
    expect(summary.read).to.equal(2);
    const during = seen.filter((p) => p.read === 1 && p.stalledMs > 0);
    expect(during).to.have.length.of.at.least(3);
    for (let i = 1; i < during.length; i++) expect(during[i].stalledMs).to.be.above(during[i - 1].stalledMs);
    expect(seen[seen.length - 1]).to.include({ read: 2, stalledMs: 0, done: true });
  });

  it('invalid values are TypeErrors; pipe() does not take progress', async () => {
    const rejection = (promise: Promise<unknown>) => promise.then(() => null, (e: Error) => e);
    expect(await rejection(run([1], sink(), { progress: 'yes' as never }))).to.be.instanceOf(TypeError).with.property('message', 'run(): expected `progress` to be a function, got `yes` (string)');
    expect(await rejection(run([1], sink(), { progress: () => {}, progressMs: -1 }))).to.be.instanceOf(TypeError).with.property('message', 'run(): expected `progressMs` to be an integer from 0 and up, got `-1` (number)');
    expect(() => pipe([1], map((n: number) => n), { progress: () => {} })).to.throw(TypeError, 'pipe(): expected `progress` to be not set for pipe() (run() reports progress)');
  });

  it('ProgressReporter with a fake clock: each report has elapsed time, rows/s so far and how long the count has stood still', () => {
    let now = 0;
    let read = 0;
    const calls: Progress[] = [];
    const reporter = new ProgressReporter((p) => void calls.push(p), 1000, { read: () => read, written: () => read, rejected: () => 0 }, null, 0, () => now);
    for (const [t, r] of [[1000, 100], [2000, 200], [3000, 200], [4000, 200], [5000, 300]]) {
      now = t;
      read = r;
      reporter.tick();
    }
    now = 5500;
    reporter.end();
    expect(calls.map((p) => [p.elapsedMs, p.read, p.rowsPerSecond, p.stalledMs, p.done])).to.deep.equal([
      [1000, 100, 100, 0, false],
      [2000, 200, 100, 0, false],
      [3000, 200, 67, 1000, false],
      [4000, 200, 50, 2000, false],
      [5000, 300, 60, 0, false],
      [5500, 300, 55, 0, true],
    ]);
  });
});
