/**
 * batch()'s byte and time limits (issue 4). The size-only behaviour is in batch.test.ts.
 * Time is the point of the maxWaitMs tests: they assert ranges and state the leeway.
 */
import { expect } from 'chai';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { Batcher, jsonBytes } from '../../lib/core/batcher.js';
import { RowError, batch, run } from '../../lib/index.js';
import { CountingSource, StalledSink, collect, destroyAll, expectTypeErrors, quiesce, range, rejectionOf, thrownBy, turn, until } from '../helpers/streams.js';

const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
/** Timers alive now, once mocha's own timeout timer for the running test exists. */
const baseline = async () => {
  await turn();
  return timers();
};

/** A source the test feeds by hand; it stays idle (no timer, no I/O) in between. */
function handSource<T>(): PassThrough & { feed: (...rows: T[]) => void } {
  const source = new PassThrough({ objectMode: true });
  return Object.assign(source, { feed: (...rows: T[]) => rows.forEach((row) => source.write(row)) });
}

describe('batch() limits', () => {
  describe('Batcher (no streams)', () => {
    it('closes on size, then on bytes before a row that would not fit; a big row travels alone', () => {
      const b = new Batcher<string>({ size: 3, maxBytes: 10, sizeOf: (s) => s.length });
      expect(b.add('aa')).to.deep.equal([]);
      expect(b.add('bb')).to.deep.equal([]);
      expect(b.add('cc')).to.deep.equal([{ rows: ['aa', 'bb', 'cc'], reason: 'size', bytes: 6 }]);
      b.add('aaaa');
      b.add('bbbb');
      expect(b.add('ccc')).to.deep.equal([{ rows: ['aaaa', 'bbbb'], reason: 'bytes', bytes: 8 }]);
      // 'ccc' is open (3 bytes); a 12-byte row closes it, then goes out alone.
      expect(b.add('x'.repeat(12))).to.deep.equal([
        { rows: ['ccc'], reason: 'bytes', bytes: 3 },
        { rows: ['x'.repeat(12)], reason: 'bytes', bytes: 12 },
      ]);
      expect(b.length).to.equal(0);
      expect(b.close('end')).to.equal(undefined);
      b.add('z');
      expect(b.close('end')).to.deep.equal({ rows: ['z'], reason: 'end', bytes: 1 });
      expect(b.flushes).to.deep.equal({ size: 1, bytes: 3, time: 0, end: 1 });
    });

    it('exactly maxBytes closes the batch at once', () => {
      const b = new Batcher<string>({ size: 100, maxBytes: 4, sizeOf: (s) => s.length });
      expect(b.add('ab')).to.deep.equal([]);
      expect(b.add('cd')).to.deep.equal([{ rows: ['ab', 'cd'], reason: 'bytes', bytes: 4 }]);
    });

    it('measures rows as JSON bytes plus a comma by default (UTF-8, bigints as strings)', () => {
      expect(jsonBytes('abcd')).to.equal(7);
      expect(jsonBytes(['é'])).to.equal(7); // ["é"] is 6 bytes
      expect(jsonBytes({ n: 10n })).to.equal(11); // {"n":"10"}
    });

    it('a sizeOf that returns no number is an error, not an unbounded batch', () => {
      const b = new Batcher<string>({ size: 3, maxBytes: 10, sizeOf: () => Number.NaN });
      expect(thrownBy(() => b.add('a')).message).to.equal('sizeOf returned NaN, not a number of bytes');
    });
  });

  describe('maxBytes', () => {
    it('flushes on whichever comes first, never passing maxBytes, counting the reasons', async () => {
      const rows = ['a', 'bb', 'ccc', 'dddd', 'e', 'f', 'g', 'h', 'iiiiiiiiiiii', 'j'];
      const stage = batch<string>(4, { maxBytes: 6, sizeOf: (s) => s.length });
      const sink = collect<string[]>();
      await run(rows, stage, sink);
      // 'dddd','e','f' is exactly 6 bytes; 'g','h' cannot take the 12-byte row, which goes alone.
      expect(sink.rows).to.deep.equal([['a', 'bb', 'ccc'], ['dddd', 'e', 'f'], ['g', 'h'], ['iiiiiiiiiiii'], ['j']]);
      expect(sink.rows.flat()).to.deep.equal(rows);
      expect(stage.flushes).to.deep.equal({ size: 0, bytes: 4, time: 0, end: 1 });
      expect(stage.stats).to.include({ in: 10, out: 5 });
    });

    it('with the default sizeOf, a batch of objects stays under maxBytes as a JSON array body', async () => {
      const rows = range(200).map((i) => ({ id: i, plate: `P${i}` }));
      const sink = collect<object[]>();
      await run(rows, batch(1_000, { maxBytes: 512 }), sink);
      expect(sink.rows.length).to.be.greaterThan(1);
      for (const b of sink.rows) expect(Buffer.byteLength(JSON.stringify(b))).to.be.at.most(512);
      expect(sink.rows.flat()).to.deep.equal(rows);
    });

    it('a throwing sizeOf fails the stage with a RowError naming the row', async () => {
      const error = await rejectionOf(run(['a', 'b'], batch<string>(5, { maxBytes: 10, sizeOf: function measure(s) {
        if (s === 'b') throw new Error('cannot measure');
        return 1;
      } }), collect()));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal('batch(5) failed on row 2: cannot measure');
    });
  });

  describe('maxWaitMs', () => {
    it('emits a partial batch after maxWaitMs while the source is idle, then goes on', async () => {
      const base = await baseline();
      const source = handSource<number>();
      const stage = batch<number>(100, { maxWaitMs: 50 });
      const sink = collect<number[]>();
      const arrivals: number[] = [];
      stage.on('data', () => arrivals.push(performance.now()));
      const done = run(source, stage, sink);
      const started = performance.now();
      source.feed(1, 2);
      await until(() => sink.rows.length === 1, 'the timed batch', 100_000);
      // Leeway: a timer never fires early (1 ms for clock rounding) and on an idle loop
      // within a few ms; 950 ms allows for a loaded CI machine.
      const waited = arrivals[0] - started;
      expect(waited).to.be.within(49, 1_000);
      expect(sink.rows).to.deep.equal([[1, 2]]);
      source.feed(3);
      source.end(4);
      await done;
      expect(sink.rows).to.deep.equal([[1, 2], [3, 4]]);
      expect(stage.flushes).to.deep.equal({ size: 0, bytes: 0, time: 1, end: 1 });
      expect(timers()).to.equal(base);
    });

    it('size first: a full batch goes at once and its timer is cleared (no time flush of an empty batch)', async () => {
      const base = await baseline();
      const stage = batch<number>(2, { maxWaitMs: 30 });
      const sink = collect<number[]>();
      const source = handSource<number>();
      const done = run(source, stage, sink);
      source.feed(1, 2);
      await until(() => sink.rows.length === 1, 'the full batch');
      expect(timers()).to.equal(base);
      source.end();
      await done;
      expect(sink.rows).to.deep.equal([[1, 2]]);
      expect(stage.flushes).to.deep.equal({ size: 1, bytes: 0, time: 0, end: 0 });
    });

    it('the timer is cleared when the stream is destroyed with a partial batch open', async () => {
      const before = await baseline();
      const source = handSource<number>();
      const stage = batch<number>(10, { maxWaitMs: 60_000 });
      const sink = collect<number[]>();
      pipeline(source, stage, sink, () => {});
      source.feed(1);
      await until(() => timers() === before + 1, 'the batch timer');
      await destroyAll(source, stage, sink);
      expect(timers()).to.equal(before);
      expect(sink.rows).to.deep.equal([]);
    });

    it('with a stalled consumer a timed batch waits for the next read (the output never passes its high-water mark)', async () => {
      const source = handSource<number>();
      const stage = batch<number>(5, { maxWaitMs: 5 });
      const sink = new StalledSink<number[]>(1);
      pipeline(source, stage, sink, () => {});
      // Timed pushes do not hold the input back (only a push during a write does): [1, 2]
      // goes to the stalled sink, [3, 4] fills the output (high-water mark 1), and row 5
      // still enters the open batch.
      source.feed(1, 2);
      await until(() => sink.received.length === 1, 'the first timed batch', 100_000);
      source.feed(3, 4);
      await until(() => stage.readableLength === 1, 'a full output', 100_000);
      source.feed(5);
      await until(() => stage.writableLength === 0, 'row 5 in the open batch');
      // Several timer periods pass; there is no event for a deferred flush, so wait on the clock.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(stage.readableLength, 'no timed push past the high-water mark').to.equal(1);
      sink.release();
      await until(() => sink.received.length === 2, '[3, 4]');
      expect(stage.readableLength, '[5] pushed at the read').to.equal(1);
      sink.release();
      await until(() => sink.received.length === 3, '[5]');
      expect(sink.received).to.deep.equal([[1, 2], [3, 4], [5]]);
      expect(stage.flushes).to.deep.equal({ size: 0, bytes: 0, time: 3, end: 0 });
      await destroyAll(source, stage, sink);
    });

    it('the last partial batch at end clears the timer; an empty input starts none', async () => {
      const base = await baseline();
      const sink = collect<number[]>();
      await run([1, 2, 3], batch(2, { maxWaitMs: 60_000 }), sink);
      expect(sink.rows).to.deep.equal([[1, 2], [3]]);
      await run(Readable.from([], { objectMode: true }), batch(2, { maxWaitMs: 60_000 }), collect());
      expect(timers()).to.equal(base);
    });
  });

  describe('options', () => {
    it('throws the documented TypeError for invalid values', () => {
      const cases: [() => unknown, string][] = [
        [() => batch(10, { maxBytes: 0 }), 'batch(): expected `maxBytes` to be an integer from 1 and up (or Infinity), got `0` (number)'],
        [() => batch(10, { maxWaitMs: -5 }), 'batch(): expected `maxWaitMs` to be an integer from 1 and up (or Infinity), got `-5` (number)'],
        [() => batch(10, { maxWaitMs: '5' as never }), 'batch(): expected `maxWaitMs` to be an integer from 1 and up (or Infinity), got `5` (string)'],
        [() => batch(10, { maxBytes: 10, sizeOf: 3 as never }), 'batch(): expected `sizeOf` to be a function, got `3` (number)'],
      ];
      expectTypeErrors(cases);
    });

    it('does not change the options object', () => {
      const options = Object.freeze({ maxBytes: 100, maxWaitMs: 10 });
      batch(10, options).destroy();
      expect(options).to.deep.equal({ maxBytes: 100, maxWaitMs: 10 });
    });
  });
});
