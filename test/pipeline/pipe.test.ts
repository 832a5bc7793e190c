import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AbortError, RowError, csv, map, pipe, take, tap, type Reject, type RejectRecord } from '../../lib/index.js';
import { closed, collector, deferred, isClosed, thrown } from '../helpers/csv.js';
import { numberedCsv, openFilesUnder, tempDir, type TempDir } from '../helpers/files.js';

/** An endless generator source that reports when its `finally` has run. */
function endless(): { source: () => Generator<number>; released: Promise<void>; pulled: () => number } {
  const done = deferred();
  let pulled = 0;
  return {
    source: function* () {
      try {
        for (;;) yield ++pulled;
      } finally {
        done.resolve();
      }
    },
    released: done.promise,
    pulled: () => pulled,
  };
}

async function iterationError(iterable: AsyncIterable<unknown>, seen: unknown[] = []): Promise<Error & Record<string, unknown>> {
  try {
    for await (const row of iterable) seen.push(row);
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the iteration to fail');
}

describe('pipe()', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  it('yields the rows of source and stages in order', async () => {
    const rows: number[] = [];
    for await (const row of pipe([1, 2, 3, 4], map((x: number) => x * 10), (x: number) => x + 1)) rows.push(row);
    expect(rows).to.deep.equal([11, 21, 31, 41]);
  });

  it('works with a source alone', async () => {
    const rows: string[] = [];
    for await (const row of pipe(Readable.from(['a', 'b']))) rows.push(row);
    expect(rows).to.deep.equal(['a', 'b']);
  });

  it('for await … break releases a generator source (its finally runs) and closes every stage', async function () {
    this.timeout(2000);
    const { source, released, pulled } = endless();
    const stage = map((x: number) => x);
    const rows = pipe(source, stage);
    const seen: number[] = [];
    for await (const row of rows) {
      seen.push(row);
      if (row === 3) break;
    }
    expect(seen).to.deep.equal([1, 2, 3]);
    await released;
    await Promise.all([closed(rows), closed(stage)]);
    expect(rows.destroyed).to.equal(true);
    expect(pulled()).to.be.below(100);
  });

  it('for await … break over csv.read closes the file', async function () {
    this.timeout(2000);
    const file = await dir.write('pipe-break.csv', numberedCsv(20_000));
    const input = createReadStream(file, { highWaterMark: 256 });
    let openWhileReading = -1;
    const seen: unknown[] = [];
    for await (const row of pipe(csv.read(input), tap(() => undefined))) {
      if (seen.length === 0) openWhileReading = openFilesUnder(dir.path).length;
      seen.push(row);
      if (seen.length === 2) break;
    }
    expect(seen).to.deep.equal([
      ['1', 'name1'],
      ['2', 'name2'],
    ]);
    expect(openWhileReading).to.equal(1);
    await closed(input);
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
    expect(input.bytesRead).to.be.below(10_000);
  });

  it('for await … break over csv.read(path) leaves no descriptor open', async function () {
    this.timeout(2000);
    const file = await dir.write('pipe-break-path.csv', numberedCsv(20_000));
    const reader = csv.read(file, { chunkSize: 256 });
    for await (const row of pipe(reader)) {
      expect(row).to.deep.equal(['1', 'name1']);
      break;
    }
    // csv.read waits for its file to close before it closes itself.
    await closed(reader);
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('take(n) inside pipe() ends the iteration and releases the source', async function () {
    this.timeout(2000);
    const { source, released } = endless();
    const rows: number[] = [];
    for await (const row of pipe(source, take(4))) rows.push(row);
    expect(rows).to.deep.equal([1, 2, 3, 4]);
    await released;
  });

  it('surfaces a stage error on the iteration, after the rows before it', async () => {
    const { source } = endless();
    const boom = new Error('bad three');
    const seen: unknown[] = [];
    const stage = map((x: number) => {
      if (x === 3) throw boom;
      return x;
    });
    const error = await iterationError(pipe(source, stage), seen);
    expect(error).to.be.instanceOf(RowError);
    expect(error.message).to.equal('map() failed on row 3: bad three');
    expect(error.cause).to.equal(boom);
    // Rows still buffered when the stage fails are dropped (stream semantics): a prefix.
    expect([[], [1], [1, 2]]).to.deep.include(seen);
    await closed(stage);
  });

  it('surfaces a source error on the iteration', async () => {
    const boom = new Error('source broke');
    const seen: unknown[] = [];
    const error = await iterationError(
      pipe(function* () {
        yield 'a';
        throw boom;
      }, map((x: string) => x)),
      seen,
    );
    expect(error).to.equal(boom);
    expect(seen).to.deep.equal(['a']);
  });

  it('surfaces a CSV error with its line', async () => {
    const file = await dir.write('pipe-bad.csv', 'a,b\n1,2\n3,"4\n');
    const seen: unknown[] = [];
    const error = await iterationError(pipe(csv.read(file)), seen);
    expect(error.message).to.equal(`${file}, line 3, column 3: a quoted field is not closed`);
    expect(error.line).to.equal(3);
    expect(seen).to.deep.equal([['1', '2']]);
  });

  describe('signal', () => {
    it('aborting mid-iteration fails it with an AbortError and releases the source', async function () {
      this.timeout(2000);
      const { source, released } = endless();
      const controller = new AbortController();
      const reason = new Error('enough');
      const inFlight: AbortSignal[] = [];
      const stage = map(
        async (x: number, { signal }) => {
          if (x === 3) {
            inFlight.push(signal);
            controller.abort(reason);
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          }
          return x;
        },
        { concurrency: 2 },
      );
      const seen: unknown[] = [];
      const error = await iterationError(pipe(source, stage, { signal: controller.signal }), seen);
      expect(error).to.be.instanceOf(AbortError);
      expect(error.cause).to.equal(reason);
      expect([[], [1], [1, 2]]).to.deep.include(seen);
      expect(inFlight[0].aborted).to.equal(true);
      await released;
      await closed(stage);
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    });

    it('an already aborted signal fails the first read with an AbortError', async () => {
      const controller = new AbortController();
      controller.abort(new Error('before start'));
      let calls = 0;
      const seen: unknown[] = [];
      const error = await iterationError(
        pipe(
          [1, 2, 3],
          map((x: number) => {
            calls++;
            return x;
          }),
          { signal: controller.signal },
        ),
        seen,
      );
      expect(error).to.be.instanceOf(AbortError);
      expect((error.cause as Error).message).to.equal('before start');
      expect(seen).to.deep.equal([]);
      expect(calls).to.equal(0);
    });

    it('removes its abort listener once the iteration ends', async () => {
      const controller = new AbortController();
      const rows = pipe([1, 2], map((x: number) => x), { signal: controller.signal });
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(1);
      for await (const _row of rows) void _row;
      await closed(rows);
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    });
  });

  describe('rejects', () => {
    const rejectOdd = () =>
      map(
        (x: number) => {
          if (x % 2 === 1) throw new Error(`odd ${x}`);
          return x;
        },
        { onError: 'reject' },
      );

    it('sends rejected rows to a function and yields the rest', async () => {
      const received: Reject[] = [];
      const rows: number[] = [];
      for await (const row of pipe([1, 2, 3, 4], rejectOdd(), { rejects: (r) => void received.push(r) })) rows.push(row);
      expect(rows).to.deep.equal([2, 4]);
      expect(received.map((r) => [r.row, r.reason, r.index])).to.deep.equal([
        [1, 'odd 1', 1],
        [3, 'odd 3', 3],
      ]);
    });

    it('ends a rejects Writable after the iteration completes', async () => {
      const target = collector<RejectRecord>();
      const rows = pipe([1, 2, 3], rejectOdd(), { rejects: target });
      for await (const _row of rows) void _row;
      await closed(target);
      expect(target.writableFinished).to.equal(true);
      expect(target.rows.map((r) => r.row)).to.deep.equal(['1', '3']);
    });
  });

  it('refuses a sink as the last stage with a TypeError', () => {
    const error = thrown(() => pipe([1], collector()));
    expect(error).to.be.instanceOf(TypeError);
    expect(error.message).to.equal('pipe() needs a readable last stage; use run() to end in a sink');
  });

  it('destroys the streams it was given when it throws (no file left open)', async function () {
    this.timeout(2000);
    const file = await dir.write('pipe-invalid.csv', numberedCsv(10));
    const reader = csv.read(file);
    const sink = collector();
    expect(thrown(() => pipe(reader, sink))).to.be.instanceOf(TypeError);
    await Promise.all([closed(reader), closed(sink)]);
    expect(openFilesUnder(dir.path)).to.deep.equal([]);
  });

  it('rejects invalid options with a TypeError', () => {
    const error = thrown(() => pipe([1], map((x: number) => x), { signal: 42 as never }));
    expect(error).to.be.instanceOf(TypeError);
    expect(error.message).to.equal('pipe(): expected `signal` to be an AbortSignal, got `42` (number)');
  });

  it('is destroyed, not ended, when broken out of (no end event)', async () => {
    const rows = pipe([1, 2, 3], map((x: number) => x));
    let ended = false;
    rows.on('end', () => {
      ended = true;
    });
    for await (const _row of rows) break;
    await closed(rows);
    expect(ended).to.equal(false);
    expect(isClosed(rows)).to.equal(true);
  });
});
