import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { createReadStream } from 'node:fs';
import { Readable, Transform, Writable, type Stream } from 'node:stream';
import { chain, many, none } from 'stream-chain';
import {
  AbortError,
  RejectLimitError,
  RowError,
  csv,
  filter,
  map,
  run,
  take,
  tap,
  type Reject,
  type RejectRecord,
  type Summary,
} from '../../lib/index.js';
import { bytes, closed, collector, deferred, isClosed, rejection, textSink } from '../helpers/csv.js';
import { numberedCsv, openFilesUnder, readText, tempDir, type TempDir } from '../helpers/files.js';
import { expectNoUnhandledRejections } from '../helpers/streams.js';

/** The summary without its wall time, for exact comparison. */
function counts(summary: Summary): Omit<Summary, 'ms'> {
  const { ms, ...rest } = summary;
  expect(ms).to.be.a('number').and.to.be.at.least(0);
  return rest;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function* naturals(): Generator<number> {
  for (let i = 1; ; i++) yield i;
}

/** A Transform whose destroy takes a while, to show that run() waits for every 'close'. */
function slowToClose(): Transform {
  return new Transform({
    objectMode: true,
    transform(row, _encoding, callback) {
      callback(null, row);
    },
    destroy(error, callback) {
      setTimeout(() => callback(error), 20);
    },
  });
}

/** A sink that takes 20 ms to close, like `slowToClose`. */
function slowToCloseSink(): Writable {
  return new Writable({
    objectMode: true,
    write(_row, _encoding, callback) {
      callback();
    },
    destroy(error, callback) {
      setTimeout(() => callback(error), 20);
    },
  });
}

describe('run()', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  describe('sources', () => {
    it('reads an object-mode Readable', async () => {
      const sink = collector();
      const summary = await run(Readable.from([{ a: 1 }, { a: 2 }]), sink);
      expect(sink.rows).to.deep.equal([{ a: 1 }, { a: 2 }]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('reads an array, keeping order', async () => {
      const sink = collector();
      await run(range(100), sink);
      expect(sink.rows).to.deep.equal(range(100));
    });

    it('reads an async iterable that is not a generator', async () => {
      const source: AsyncIterable<string> = {
        [Symbol.asyncIterator]() {
          let i = 0;
          return { next: async () => (i < 3 ? { value: `r${++i}`, done: false } : { value: undefined, done: true }) };
        },
      };
      const sink = collector();
      await run(source, sink);
      expect(sink.rows).to.deep.equal(['r1', 'r2', 'r3']);
    });

    it('calls a generator function and reads what it yields', async () => {
      const sink = collector();
      const summary = await run(function* () {
        yield 'a';
        yield 'b';
      }, sink);
      expect(sink.rows).to.deep.equal(['a', 'b']);
      expect(summary.read).to.equal(2);
    });

    it('calls an async generator function', async () => {
      const sink = collector();
      await run(async function* () {
        yield 1;
        await Promise.resolve();
        yield 2;
      }, sink);
      expect(sink.rows).to.deep.equal([1, 2]);
    });

    it('calls a function that returns a Readable', async () => {
      const sink = collector();
      await run(() => Readable.from(['x', 'y']), sink);
      expect(sink.rows).to.deep.equal(['x', 'y']);
    });

    it('reads any iterable, e.g. a Set', async () => {
      const sink = collector();
      await run(new Set([3, 1, 2]), sink);
      expect(sink.rows).to.deep.equal([3, 1, 2]);
    });

    it('reads CSV rows from csv.read(path)', async () => {
      const file = await dir.write('sources.csv', 'id,name\n1,a\n2,b\n');
      const sink = collector();
      const summary = await run(csv.read(file), sink);
      expect(sink.rows).to.deep.equal([
        ['1', 'a'],
        ['2', 'b'],
      ]);
      expect(counts(summary)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('counts rows, not byte chunks, as read when a byte stream is parsed', async () => {
      const sink = collector();
      const summary = await run(bytes(['id\n1\n2', '\n3\n4\n5\n']), csv.parse(), sink);
      expect(sink.rows).to.have.length(5);
      expect(counts(summary)).to.deep.equal({ read: 5, written: 5, filtered: 0, rejected: 0, stoppedEarly: false });
    });
  });

  describe('middle stages', () => {
    it('accepts a stream-chain chain between sluice stages', async () => {
      const sink = collector();
      await run([1, 2, 3], map((x: number) => x * 10), chain([(x: number) => x + 1, (x: number) => (x === 21 ? none : x)]), sink);
      expect(sink.rows).to.deep.equal([11, 31]);
    });

    it('fuses plain functions with stream-chain rules (none drops, many expands, async awaited)', async () => {
      const sink = collector();
      await run(
        [1, 2, 3, 4],
        (x: number) => x * 2,
        (x: number) => (x === 4 ? none : x),
        async (x: number) => x + 1,
        map((x: number) => `#${x}`),
        (s: string) => many([s, s.toUpperCase()]),
        sink,
      );
      expect(sink.rows).to.deep.equal(['#3', '#3', '#7', '#7', '#9', '#9']);
    });

    it('accepts a generator function as a middle stage (yields per row)', async () => {
      const sink = collector();
      await run(
        ['a', 'b'],
        function* (x: string) {
          yield x;
          yield `${x}!`;
        },
        sink,
      );
      expect(sink.rows).to.deep.equal(['a', 'a!', 'b', 'b!']);
    });

    it('drains a pipeline that ends in a Transform and counts its rows as written', async () => {
      const seen: number[] = [];
      const summary = await run(range(5), tap((x: number) => seen.push(x)));
      expect(seen).to.deep.equal(range(5));
      expect(counts(summary)).to.deep.equal({ read: 5, written: 5, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('ends in a plain function too (its results are drained)', async () => {
      const seen: number[] = [];
      const summary = await run(range(3), (x: number) => {
        seen.push(x);
        return x;
      });
      expect(seen).to.deep.equal([1, 2, 3]);
      expect(summary.written).to.equal(3);
    });
  });

  describe('summary', () => {
    it('read = written + filtered + rejected', async () => {
      const rejected: Reject[] = [];
      const sink = collector();
      const summary = await run(
        range(20),
        filter((x: number) => x % 2 === 1), // drops 10
        map(
          (x: number) => {
            if (x % 3 === 0) throw new Error(`no multiples of 3: ${x}`);
            return x;
          },
          { onError: 'reject' },
        ), // rejects 3, 9, 15
        sink,
        { rejects: (r) => void rejected.push(r) },
      );
      expect(sink.rows).to.deep.equal([1, 5, 7, 11, 13, 17, 19]);
      expect(rejected.map((r) => r.row)).to.deep.equal([3, 9, 15]);
      expect(counts(summary)).to.deep.equal({ read: 20, written: 7, filtered: 10, rejected: 3, stoppedEarly: false });
    });

    it('counts rows, not text chunks, as written when csv.format() feeds a byte sink or ends the pipeline', async () => {
      const sink = textSink();
      const toSink = await run([{ a: 1 }, { a: 2 }, { a: 3 }], csv.format(), sink);
      expect(sink.text()).to.equal('a\n1\n2\n3\n');
      expect(counts(toSink)).to.deep.equal({ read: 3, written: 3, filtered: 0, rejected: 0, stoppedEarly: false });
      const drained = await run([[1], [2]], csv.format());
      expect(counts(drained)).to.deep.equal({ read: 2, written: 2, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('counts an empty source as zero everywhere', async () => {
      const summary = await run([], collector());
      expect(counts(summary)).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
    });

    it('does not mutate a frozen options object', async () => {
      const options = Object.freeze({ rejects: () => undefined, maxRejects: 3 });
      const summary = await run([1], map((x: number) => x), collector(), options);
      expect(summary.written).to.equal(1);
    });
  });

  describe('rejects', () => {
    const rejectEven = () =>
      map(
        (row: { n: number }) => {
          if (row.n % 2 === 0) throw new Error(`even: ${row.n}`);
          return row;
        },
        { onError: 'reject' },
      );

    it('hands each reject to a function, with stage, reason, row, index and origin', async () => {
      const received: Reject[] = [];
      await run(bytes(['n,label\n1,a\n2,b\n3,c\n4,"d\nd"\n']), csv.parse({ rows: 'objects' }), map((row: { n: string }) => ({ ...row, n: Number(row.n) })), rejectEven(), collector(), {
        rejects: (r) => void received.push(r),
      });
      expect(received.map(({ stage, reason, row, index, origin }) => ({ stage, reason, row, index, origin }))).to.deep.equal([
        { stage: 'map()', reason: 'even: 2', row: { n: 2, label: 'b' }, index: 2, origin: { source: 'csv', line: 3 } },
        { stage: 'map()', reason: 'even: 4', row: { n: 4, label: 'd\nd' }, index: 4, origin: { source: 'csv', line: 5 } },
      ]);
      expect(received[0].error).to.be.instanceOf(RowError);
    });

    it('waits for an async reject function before the stage goes on', async () => {
      const order: string[] = [];
      await run(
        [{ n: 1 }, { n: 2 }, { n: 3 }],
        rejectEven(),
        tap((row: { n: number }) => void order.push(`row ${row.n}`)),
        collector(),
        {
          rejects: async (r) => {
            order.push(`reject ${(r.row as { n: number }).n} start`);
            await new Promise((resolve) => setImmediate(resolve));
            order.push(`reject ${(r.row as { n: number }).n} stored`);
          },
        },
      );
      expect(order).to.deep.equal(['row 1', 'reject 2 start', 'reject 2 stored', 'row 3']);
    });

    it('fails the run when the reject function throws', async () => {
      const boom = new Error('cannot store');
      const error = await rejection(
        run([{ n: 2 }], rejectEven(), collector(), {
          rejects: () => {
            throw boom;
          },
        }),
      );
      expect(error).to.equal(boom);
    });

    it('writes RejectRecords (stage, reason, source, line, index, row JSON) to an object-mode Writable', async () => {
      const target = collector<RejectRecord>();
      const summary = await run(
        bytes(['n,label\n1,a\n2,"b,""x"""\n']),
        csv.parse({ rows: 'objects', source: 'in.csv' }),
        map((row: { n: string; label: string }) => ({ n: Number(row.n), label: row.label, big: 2n ** 64n })),
        rejectEven(),
        collector(),
        { rejects: target },
      );
      expect(target.rows).to.deep.equal([
        { stage: 'map()', reason: 'even: 2', source: 'in.csv', line: 3, index: 2, row: '{"n":2,"label":"b,\\"x\\"","big":"18446744073709551616"}' },
      ]);
      expect(summary.rejected).to.equal(1);
      expect(target.writableFinished, 'the rejects Writable is ended').to.equal(true);
      expect(isClosed(target)).to.equal(true);
    });

    it('leaves source and line empty for rows without an origin', async () => {
      const target = collector<RejectRecord>();
      await run([{ n: 2 }], rejectEven(), collector(), { rejects: target });
      expect(target.rows).to.deep.equal([{ stage: 'map()', reason: 'even: 2', source: '', line: '', index: 1, row: '{"n":2}' }]);
    });

    it('writes rejected.csv with a header through csv.write(path), complete when run resolves', async () => {
      const file = dir.file('rejected.csv');
      const out = dir.file('ok.csv');
      await run(
        bytes(['n,label\n1,a\n2,"b,c"\n3,c\n4,d\n']),
        csv.parse({ rows: 'objects', source: 'in.csv' }),
        map((row: { n: string; label: string }) => ({ n: Number(row.n), label: row.label })),
        rejectEven(),
        csv.write(out),
        { rejects: csv.write(file) },
      );
      expect(await readText(file)).to.equal(
        'stage,reason,source,line,index,row\n' +
          'map(),even: 2,in.csv,3,2,"{""n"":2,""label"":""b,c""}"\n' +
          'map(),even: 4,in.csv,5,4,"{""n"":4,""label"":""d""}"\n',
      );
      expect(await readText(out)).to.equal('n,label\n1,a\n3,c\n');
    });

    it('fails on the first rejected row when nothing receives rejects', async () => {
      const sink = collector();
      const error = await rejection(run([{ n: 1 }, { n: 2 }, { n: 3 }], rejectEven(), sink));
      expect(error.message).to.equal(
        "map() failed on row 2: even: 2 — the row was to be rejected, but nothing receives rejects (pass `rejects` to run() or listen for 'reject' on the stage)",
      );
      expect(error.cause).to.be.instanceOf(RowError);
      expect(sink.rows).to.deep.equal([{ n: 1 }]);
    });

    it('fails the run when the rejects Writable fails', async () => {
      const boom = new Error('disk full');
      const target = new Writable({
        objectMode: true,
        write(_record, _encoding, callback) {
          callback(boom);
        },
      });
      const error = await rejection(run(range(10).map((n) => ({ n })), rejectEven(), collector(), { rejects: target }));
      expect(error).to.equal(boom);
      expect(isClosed(target)).to.equal(true);
    });

    it('holds the stage while a slow rejects Writable drains (backpressure)', async () => {
      let pending = 0;
      let peak = 0;
      const target = new Writable({
        objectMode: true,
        highWaterMark: 2,
        write(_record, _encoding, callback) {
          pending++;
          peak = Math.max(peak, target.writableLength);
          setImmediate(() => {
            pending--;
            callback();
          });
        },
      });
      const summary = await run(range(200).map((n) => ({ n: n * 2 })), rejectEven(), collector(), { rejects: target });
      expect(summary.rejected).to.equal(200);
      expect(pending).to.equal(0);
      // The channel writes until write() returns false, then waits for 'drain'.
      expect(peak).to.be.at.most(2);
    });
  });

  describe('maxRejects', () => {
    const rejectAll = () =>
      map(
        (x: number): number => {
          throw new Error(`bad ${x}`);
        },
        { onError: 'reject' },
      );

    it('fails with a RejectLimitError on the reject after the limit', async () => {
      const received: Reject[] = [];
      const error = await rejection(run(range(10), rejectAll(), collector(), { rejects: (r) => void received.push(r), maxRejects: 2 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.equal('more than 2 row(s) rejected; the last: map() failed on row 3: bad 3');
      expect((error as unknown as RejectLimitError).maxRejects).to.equal(2);
      expect(error.cause).to.be.instanceOf(RowError);
      expect(received.map((r) => r.row)).to.deep.equal([1, 2]);
    });

    it('resolves when exactly maxRejects rows are rejected', async () => {
      const summary = await run(range(3), rejectAll(), collector(), { rejects: () => undefined, maxRejects: 3 });
      expect(counts(summary)).to.deep.equal({ read: 3, written: 0, filtered: 0, rejected: 3, stoppedEarly: false });
    });

    it('maxRejects: 0 fails on the first reject', async () => {
      const error = await rejection(run(range(3), rejectAll(), collector(), { rejects: () => undefined, maxRejects: 0 }));
      expect(error).to.be.instanceOf(RejectLimitError);
      expect(error.message).to.match(/^more than 0 row\(s\) rejected; the last: map\(\) failed on row 1: bad 1$/);
    });
  });

  describe('AbortSignal', () => {
    it('rejects with an AbortError and destroys every stage when the signal is already aborted', async () => {
      const controller = new AbortController();
      const reason = new Error('shutting down');
      controller.abort(reason);
      let calls = 0;
      const source = Readable.from(range(10));
      const stage = map((x: number) => {
        calls++;
        return x;
      });
      const sink = collector();
      const error = await rejection(run(source, stage, sink, { signal: controller.signal }));
      expect(error).to.be.instanceOf(AbortError);
      expect(error.name).to.equal('AbortError');
      expect(error.cause).to.equal(reason);
      expect(calls).to.equal(0);
      expect(sink.rows).to.deep.equal([]);
      for (const stream of [source, stage, sink]) expect(isClosed(stream)).to.equal(true);
    });

    it('aborted mid-stream: AbortError, every stage closed, in-flight async work sees signal.aborted', async () => {
      const controller = new AbortController();
      const reason = new Error('deadline');
      let finallyRan = false;
      const source = Readable.from(
        (function* () {
          try {
            yield* naturals();
          } finally {
            finallyRan = true;
          }
        })(),
      );
      const inFlight: AbortSignal[] = [];
      const stage = map(
        async (x: number, { signal }) => {
          if (x === 5) {
            inFlight.push(signal);
            controller.abort(reason);
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          }
          return x;
        },
        { concurrency: 2 },
      );
      const after = tap(() => undefined);
      const sink = collector<number>();
      const error = await rejection(run(source, stage, after, sink, { signal: controller.signal }));
      expect(error).to.be.instanceOf(AbortError);
      expect(error.cause).to.equal(reason);
      expect(inFlight).to.have.length(1);
      expect(inFlight[0].aborted).to.equal(true);
      for (const stream of [source, stage, after, sink]) {
        expect(stream.destroyed).to.equal(true);
        expect(isClosed(stream)).to.equal(true);
      }
      expect(finallyRan, "the source generator's finally ran").to.equal(true);
      expect(sink.rows.every((x) => x < 5)).to.equal(true);
    });

    it('leaves no abort listener on the signal after success or failure', async () => {
      const controller = new AbortController();
      await run(range(3), map((x: number) => x), collector(), { signal: controller.signal });
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
      await rejection(
        run(
          range(3),
          map((): number => {
            throw new Error('x');
          }),
          collector(),
          { signal: controller.signal },
        ),
      );
      expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
    });
  });

  describe('errors', () => {
    // Every failure must arrive as run()'s rejection, never as a stray unhandled rejection.
    expectNoUnhandledRejections();

    it('an async generator source that throws: that error (TESTPLAN B13)', async () => {
      const boom = new Error('async source broke');
      const error = await rejection(
        run(async function* () {
          yield 1;
          await Promise.resolve();
          throw boom;
        }, map((x: number) => x), collector()),
      );
      expect(error).to.equal(boom);
    });

    it('a plain async function stage that rejects: that error (TESTPLAN B13)', async () => {
      const boom = new Error('rejected in a function stage');
      const error = await rejection(
        run(naturals, async (x: number) => {
          if (x === 3) throw boom;
          return x;
        }, collector()),
      );
      expect(error).to.equal(boom);
    });

    it('a sink that is already destroyed: "destination closed", and the source file is closed (TESTPLAN B16)', async () => {
      const file = await dir.write('dead-sink.csv', numberedCsv(1000));
      const reader = csv.read(file);
      const sink = collector();
      sink.destroy();
      const error = await rejection(run(reader, sink));
      expect(error).to.be.instanceOf(AbortError);
      expect(((error as unknown as AbortError).cause as Error).message).to.equal('destination closed before the pipeline finished');
      expect(isClosed(reader)).to.equal(true);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });

    it('a stage error wins over the premature close of the stages around it (TESTPLAN B13)', async () => {
      const boom = new Error('boom');
      const source = Readable.from(naturals());
      const bad = new Transform({
        objectMode: true,
        transform(row: number, _encoding, callback) {
          if (row === 3) this.destroy(boom);
          else callback(null, row);
        },
      });
      const sink = collector();
      const error = await rejection(run(source, map((x: number) => x), bad, tap(() => undefined), sink));
      expect(error).to.equal(boom);
      expect(sink.rows).to.deep.equal([1, 2]);
    });

    it('a throwing map fails with a RowError whose cause is the original error', async () => {
      const boom = new TypeError('bad row');
      const error = await rejection(
        run(
          naturals,
          map((x: number) => {
            if (x === 4) throw boom;
            return x;
          }),
          collector(),
        ),
      );
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('map() failed on row 4: bad row');
      expect(error.cause).to.equal(boom);
    });

    it('a source error is the one reported, not a premature close', async () => {
      const boom = new Error('source broke');
      const error = await rejection(
        run(
          function* () {
            yield 1;
            yield 2;
            throw boom;
          },
          map((x: number) => x),
          collector(),
        ),
      );
      expect(error).to.equal(boom);
    });

    it('a sink error is the one reported', async () => {
      const boom = new Error('sink broke');
      const sink = new Writable({
        objectMode: true,
        write(row: number, _encoding, callback) {
          callback(row === 2 ? boom : null);
        },
      });
      const error = await rejection(run(naturals, map((x: number) => x), sink));
      expect(error).to.equal(boom);
    });

    it('a source destroyed by someone else without an error fails the run', async () => {
      const source = new Readable({ objectMode: true, read() {} });
      source.push(1);
      const promise = run(source, collector());
      setImmediate(() => source.destroy());
      const error = await rejection(promise);
      expect((error as { code?: string }).code).to.equal('ERR_STREAM_PREMATURE_CLOSE');
    });

    it('reports a missing input file (ENOENT) and an unwritable output path', async () => {
      const missing = await rejection(run(csv.read(dir.file('missing.csv')), collector()));
      expect((missing as { code?: string }).code).to.equal('ENOENT');
      const unwritable = await rejection(run([[1]], csv.write(dir.file('no-such-dir/out.csv'))));
      expect((unwritable as { code?: string }).code).to.equal('ENOENT');
    });
  });

  describe('settling', () => {
    it('resolves only after every stage has closed', async () => {
      const source = Readable.from(range(5));
      const middle = slowToClose();
      const stage = map((x: number) => x);
      const sink = slowToCloseSink();
      const streams: Stream[] = [source, middle, stage, sink];
      await run(source, middle, stage, sink);
      expect(streams.map(isClosed)).to.deep.equal([true, true, true, true]);
    });

    it('rejects only after every stage has closed', async () => {
      const source = Readable.from(naturals());
      const middle = slowToClose();
      const stage = map((x: number) => {
        if (x === 3) throw new Error('third');
        return x;
      });
      const sink = slowToCloseSink();
      const streams: Stream[] = [source, middle, stage, sink];
      const error = await rejection(run(source, middle, stage, sink));
      expect(error.message).to.equal('map() failed on row 3: third');
      expect(streams.map(isClosed)).to.deep.equal([true, true, true, true]);
    });
  });

  describe('early stop', () => {
    it('take(n) stops a generator source: its finally runs before run resolves', async () => {
      let finallyRan = false;
      let pulled = 0;
      const sink = collector();
      const summary = await run(
        function* () {
          try {
            for (;;) yield ++pulled;
          } finally {
            finallyRan = true;
          }
        },
        take(3),
        sink,
      );
      expect(sink.rows).to.deep.equal([1, 2, 3]);
      expect(finallyRan).to.equal(true);
      expect(summary.stoppedEarly).to.equal(true);
      expect(summary.written).to.equal(3);
      expect(summary.read).to.equal(summary.written + summary.filtered + summary.rejected);
      expect(pulled).to.be.below(100);
    });

    it('take(n) stops a csv.read file source: stoppedEarly, and the file is closed when run resolves', async () => {
      const file = await dir.write('take.csv', numberedCsv(20_000));
      const openDuring: number[] = [];
      const sink = collector();
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
      const summary = await run(
        csv.read(file, { chunkSize: 256 }),
        tap(() => void openDuring.push(openFilesUnder(dir.path).length)),
        take(5),
        sink,
      );
      expect(sink.rows).to.deep.equal([
        ['1', 'name1'],
        ['2', 'name2'],
        ['3', 'name3'],
        ['4', 'name4'],
        ['5', 'name5'],
      ]);
      expect(openDuring[0], 'the file is open while rows flow').to.equal(1);
      expect(openFilesUnder(dir.path), 'no descriptor left open').to.deep.equal([]);
      expect(summary.stoppedEarly).to.equal(true);
      expect(summary.written).to.equal(5);
      expect(summary.read).to.equal(summary.written + summary.filtered + summary.rejected);
      expect(summary.read).to.be.below(1000);
    });

    it('take(n) closes an fs.ReadStream given to csv.read before reading it all', async () => {
      const text = numberedCsv(20_000);
      const file = await dir.write('take-stream.csv', text);
      const input = createReadStream(file, { highWaterMark: 512 });
      const summary = await run(csv.read(input), take(2), collector());
      expect(summary.stoppedEarly).to.equal(true);
      expect(input.closed).to.equal(true);
      expect(input.bytesRead).to.be.below(text.length / 10);
    });

    it('take(0) ends at once without reading the file through', async () => {
      const file = await dir.write('take0.csv', numberedCsv(1000));
      const input = createReadStream(file, { highWaterMark: 256 });
      const sink = collector();
      const summary = await run(csv.read(input), take(0), sink);
      expect(sink.rows).to.deep.equal([]);
      expect(summary.stoppedEarly).to.equal(true);
      expect(summary.written).to.equal(0);
      expect(input.closed).to.equal(true);
    });
  });

  describe('options', () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      ['no source', () => (run as (...a: unknown[]) => Promise<unknown>)(), 'run(): expected at least a source'],
      [
        'a string source',
        () => run('in.csv' as never, collector()),
        'run(): expected a source (a Readable, an iterable of rows or a generator), got a string; to read a file use csv.read(path)',
      ],
      ['a null source', () => run(null as never, collector()), 'run(): expected a source (a Readable, an iterable of rows or a generator), got null'],
      ['a number stage', () => run([1], 42 as never, collector()), 'run(): expected stage 1 to be a stream or a function, got number'],
      ['maxRejects -1', () => run([1], collector(), { rejects: () => undefined, maxRejects: -1 }), 'run(): expected `maxRejects` to be an integer from 0 and up (or Infinity), got `-1` (number)'],
      ['maxRejects 1.5', () => run([1], collector(), { rejects: () => undefined, maxRejects: 1.5 }), 'run(): expected `maxRejects` to be an integer from 0 and up (or Infinity), got `1.5` (number)'],
      ['maxRejects "3"', () => run([1], collector(), { rejects: () => undefined, maxRejects: '3' as never }), 'run(): expected `maxRejects` to be an integer from 0 and up (or Infinity), got `3` (string)'],
      ['a non-signal', () => run([1], collector(), { signal: 'x' as never }), 'run(): expected `signal` to be an AbortSignal, got `x` (string)'],
      ['a rejects number', () => run([1], collector(), { rejects: 42 as never }), 'run(): expected `rejects` to be a Writable or a function, got `42` (number)'],
      ['maxRejects without rejects', () => run([1], map((x: number) => x), collector(), { maxRejects: 1 }), 'run(): expected `rejects` to be set when maxRejects is, got `undefined` (undefined)'],
    ];
    for (const [what, call, message] of cases) {
      it(`rejects ${what} with a TypeError`, async () => {
        const error = await rejection(call());
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      });
    }

    it('destroys the streams it was given when the options are invalid (no file left open)', async function () {
      this.timeout(2000);
      const file = await dir.write('invalid-options.csv', numberedCsv(10));
      const reader = csv.read(file);
      const rejectsFile = csv.write(dir.file('invalid-options-rejects.csv'));
      const error = await rejection(run(reader, collector(), { rejects: rejectsFile, maxRejects: -1 }));
      expect(error).to.be.instanceOf(TypeError);
      await Promise.all([closed(reader), closed(rejectsFile)]);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });

    it('accepts maxRejects: Infinity', async () => {
      const summary = await run([1], map((x: number) => x), collector(), { rejects: () => undefined, maxRejects: Infinity });
      expect(summary.written).to.equal(1);
    });
  });

  it('holds one abort listener while in flight and removes it when done (control for the test above)', async () => {
    // Control for the listener test above: a run still in flight does hold one listener.
    const controller = new AbortController();
    const gate = deferred();
    const promise = run(
      range(2),
      map(async (x: number) => {
        await gate.promise;
        return x;
      }),
      collector(),
      { signal: controller.signal },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(controller.signal, 'abort').length).to.be.at.least(1);
    gate.resolve();
    await promise;
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
  });

  describe('keepSource', () => {
    it('true: a failed run stops reading the source and drains it, but never destroys it', async () => {
      // autoDestroy off (as for a request body, which Node destroys only with its socket).
      const source = new Readable({ read() {}, autoDestroy: false });
      for (const chunk of ['a,b\n', '1,2\n', '3\n', '4,5\n', '6,7\n']) source.push(chunk);
      source.push(null);
      let err: Error | undefined;
      await run(source, csv.parse({ source: 'body' }), collector(), { keepSource: true }).catch((e: Error) => (err = e));
      expect(err?.message).to.equal('body, line 3: expected 2 fields, got 1');
      expect(source.destroyed).to.equal(false);
      if (!source.readableEnded) await new Promise((resolve) => source.once('end', resolve));
      expect(source.readableEnded).to.equal(true);
    });

    it('default (not a request body): a failed run destroys the source', async () => {
      const source = Readable.from(['a,b\n', '3\n', '4,5\n']);
      await run(source, csv.parse(), collector()).catch(() => undefined);
      expect(source.destroyed).to.equal(true);
    });

    it('must be a boolean', async () => {
      let err: Error | undefined;
      await run([1], collector(), { keepSource: 'yes' as unknown as boolean }).catch((e: Error) => (err = e));
      expect(err).to.be.instanceOf(TypeError).with.property('message', 'run(): expected `keepSource` to be a boolean, got `yes` (string)');
    });
  });

  it('a byte stage after a row stage (csv.parse after csv.read) rejects run() in the user\'s terms, reading nothing', async () => {
    const source = Readable.from([{ a: 1 }]);
    // TypeScript refuses this join (the typed overloads); plain JavaScript gets the error at run time.
    const reader = csv.read(Readable.from(['a\n1\n']));
    const err = await rejection(run(reader, csv.parse() as unknown as Writable, collector()));
    expect(err).to.be.instanceOf(TypeError).with.property('message', 'csv.parse() expects bytes or text, got rows from csv.read()');
    expect(reader.destroyed).to.equal(true);
    const err2 = await rejection(run(source, map((row) => row), csv.parse() as unknown as Writable, collector()));
    expect(err2.message).to.equal('csv.parse() expects bytes or text, got rows from map()');
    expect(source.destroyed).to.equal(true);
  });
});
