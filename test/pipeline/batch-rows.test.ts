/**
 * Row batching (issue 5): a csv stage hands the rows of each parsed chunk to a sluice stage
 * after it as one stream chunk, which the stage takes apart. A differential test runs random
 * inputs through random chains with batching on and off and asserts the same rows, lines,
 * summaries, rejects and errors; then backpressure (a batch pauses mid-way; a broken control
 * that does not pause is caught by the same measurement), where batching must not happen,
 * and a stage destroyed in the middle of a batch.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { addColumn, csv, filter, map, originOf, pipe, run, select, skip, take, tap, type Reject, type Summary } from '../../lib/index.js';
import type { CsvParseStage } from '../../lib/csv/parse.js';
import { RowBatch } from '../../lib/core/row-batch.js';
import { Stage } from '../../lib/core/stage.js';
import { rowBatching } from '../../lib/pipeline/batch-rows.js';
import { bytes, collector, textSink } from '../helpers/csv.js';
import { StalledSink, quiesce, until } from '../helpers/streams.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';


/** Records every chunk written to a stage (before `Stage._write` takes batches apart). */
function recordWrites(stage: Writable): unknown[] {
  const chunks: unknown[] = [];
  const write = stage._write.bind(stage);
  stage._write = (chunk, encoding, callback) => {
    chunks.push(chunk);
    write(chunk, encoding, callback);
  };
  return chunks;
}

type Step = 'select' | 'filter' | 'map' | 'async-map' | 'failing-map' | 'take' | 'skip' | 'tap' | 'add-column' | 'user-transform';

interface Case {
  text: string;
  chunkSize: number;
  steps: Step[];
  via: 'run' | 'pipe';
  ragged: 'fail' | 'reject';
  onError: 'fail' | 'reject';
}

function stage(step: Step, onError: 'fail' | 'reject'): unknown {
  switch (step) {
    case 'select': return select([1, 0]);
    case 'filter': return filter((row: string[]) => row[0] !== 'x');
    case 'map': return map((row: string[]) => [...row, 'm']);
    case 'async-map': return map(async (row: string[]) => [...row, 'a'], { concurrency: 3 });
    case 'failing-map': return map((row: string[]) => {
      if (row[1] === 'bad') throw new Error('bad row');
      return row;
    }, { onError });
    case 'take': return take(4);
    case 'skip': return skip(2);
    case 'tap': return tap(() => {});
    case 'add-column': return addColumn('n', (row: string[]) => row.length);
    case 'user-transform': return new Transform({ objectMode: true, transform: (row, _e, cb: TransformCallback) => cb(null, row) });
  }
}

interface Outcome {
  rows: unknown[];
  lines: (number | undefined)[];
  summary: Omit<Summary, 'ms'> | null;
  rejects: { stage: string; reason: string; index: number; line?: number }[];
  error: string | null;
  batches: number;
}

async function outcome(c: Case, batching: boolean): Promise<Outcome> {
  rowBatching.enabled = batching;
  const rejects: Outcome['rejects'] = [];
  const input = Buffer.from(c.text);
  const chunks = Array.from({ length: Math.ceil(input.length / c.chunkSize) }, (_, i) => input.subarray(i * c.chunkSize, (i + 1) * c.chunkSize));
  const source = csv.read(bytes(chunks), { header: false, ragged: c.ragged }) as CsvParseStage<unknown>;
  const stages = c.steps.map((s) => stage(s, c.onError));
  const written = stages[0] instanceof Stage ? recordWrites(stages[0]) : [];
  const options = { rejects: (r: Reject) => void rejects.push({ stage: r.stage, reason: r.reason, index: r.index, line: r.origin?.line }) };
  const rows: unknown[] = [];
  let summary: Outcome['summary'] = null;
  let error: string | null = null;
  try {
    if (c.via === 'run') {
      const sink = collector();
      const { ms, ...counts } = await (run as (...a: unknown[]) => Promise<Summary>)(source, ...stages, sink, options);
      expect(ms).to.be.a('number');
      summary = counts;
      rows.push(...sink.rows);
    } else {
      for await (const row of (pipe as (...a: unknown[]) => AsyncIterable<unknown>)(source, ...stages, options)) rows.push(row);
    }
  } catch (caught) {
    error = (caught as Error).message;
  } finally {
    rowBatching.enabled = true;
  }
  for (const row of rows) expect(row).to.not.be.instanceOf(RowBatch);
  // Rejects of one stage keep their order; between stages there is none to keep (the source
  // rejects a chunk's ragged lines before the next stage sees that chunk's rows). Two stages
  // may share a name (two map()s): sorted by row within a name, as a row is rejected once.
  const grouped = [...rejects].sort((a, b) => (a.stage === b.stage ? a.index - b.index : a.stage < b.stage ? -1 : 1));
  return { rows, lines: rows.map((r) => originOf(r)?.line), summary, rejects: grouped, error, batches: written.filter((w) => w instanceof RowBatch).length };
}

const field = fc.constantFrom('', 'x', 'y', 'bad', '"q,1"', '"l\nine"');
const cases: fc.Arbitrary<Case> = fc.record({
  lines: fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { maxLength: 40 }),
  steps: fc.array(fc.constantFrom<Step>('select', 'filter', 'map', 'async-map', 'failing-map', 'take', 'skip', 'tap', 'add-column', 'user-transform'), { minLength: 1, maxLength: 4 }),
  via: fc.constantFrom<'run' | 'pipe'>('run', 'pipe'),
  ragged: fc.constantFrom<'fail' | 'reject'>('fail', 'reject'),
  onError: fc.constantFrom<'fail' | 'reject'>('fail', 'reject'),
  chunkSize: fc.integer({ min: 1, max: 200 }),
}).map((g) => ({
  // Mostly two fields (the width of the first line decides), sometimes ragged.
  text: g.lines.map((fields, i) => (i % 7 === 3 ? fields : [...fields, 'y', 'z'].slice(0, 2)).join(',')).join('\n') + '\n',
  chunkSize: g.chunkSize,
  steps: g.steps,
  via: g.via,
  ragged: g.ragged,
  onError: g.onError,
}));

describe('row batching: a csv stage hands its rows to the next sluice stage in batches (issue 5)', function () {
  this.timeout(scaledTimeout);
  it('gives the same rows, lines, summaries, rejects and errors as one row at a time (differential, random inputs and chains)', async () => {
    let batchedRuns = 0;
    let batchedErrors = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const batched = await outcome(c, true);
        const single = await outcome(c, false);
        expect(single.batches).to.equal(0);
        if (batched.summary?.stoppedEarly || single.summary?.stoppedEarly) {
          // take(n) stopped the source: how far it had read ahead (rows counted as read, then
          // filtered after the limit; whether the end had already been seen) is not part of
          // the result; the accounting is.
          for (const outcome of [batched, single]) {
            const { read, written, filtered, rejected } = outcome.summary!;
            expect(read).to.equal(written + filtered + rejected);
            outcome.summary = { ...outcome.summary!, read: 0, filtered: 0, stoppedEarly: true };
          }
        }
        if (batched.error || single.error) {
          // Which rejects the source had sent when a later stage failed is a race between
          // the two; the failure and the rows before it are not.
          batched.rejects = [];
          single.rejects = [];
        }
        if (c.via === 'pipe' && (batched.error || single.error)) {
          // for await gets the rows that reached the end before the failure destroyed what
          // was still buffered: one list is a prefix of the other.
          const [shorter, longer] = batched.rows.length <= single.rows.length ? [batched, single] : [single, batched];
          expect(shorter.rows).to.deep.equal(longer.rows.slice(0, shorter.rows.length));
          for (const o of [batched, single]) Object.assign(o, { rows: [], lines: [] });
        }
        expect({ ...batched, batches: 0 }).to.deep.equal({ ...single, batches: 0 });
        if (batched.batches > 0) batchedRuns++;
        if (batched.batches > 0 && batched.error) batchedErrors++;
      }),
      { numRuns: Math.round(400 * scale) },
    );
    // The property must have exercised batching, including its error paths.
    expect(batchedRuns).to.be.greaterThan(100);
    expect(batchedErrors).to.be.greaterThan(5);
  });

  it("a batch the gate takes apart for a user's Transform stops at a take(n): rows past the limit never reach a failing map (a counterexample of the differential)", async () => {
    const c: Case = { text: ',y\n,y\n,y\n,\n,bad\n', chunkSize: 16, steps: ['user-transform', 'failing-map', 'take'], via: 'run', ragged: 'fail', onError: 'fail' };
    const batched = await outcome(c, true);
    expect(batched).to.deep.include({ error: null, summary: { read: 4, written: 4, filtered: 0, rejected: 0, stoppedEarly: true } });
    expect(batched.rows).to.deep.equal([['', 'y'], ['', 'y'], ['', 'y'], ['', '']]);
    expect(batched).to.deep.equal(await outcome(c, false));
  });

  it('a chunk of 1,000 rows reaches the first stage as one write; the summary counts rows, not batches', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `${i},v${i}\n`).join('');
    const first = map((row: string[]) => row[1]);
    const writes = recordWrites(first);
    const sink = collector();
    const summary = await run(csv.read(bytes([text]), { header: false }), first, sink);
    expect(writes.length).to.equal(1);
    expect((writes[0] as RowBatch).rows.length).to.equal(1000);
    expect(sink.rows.length).to.equal(1000);
    expect(sink.rows[999]).to.equal('v999');
    expect(originOf(sink.rows[999] as never)).to.equal(undefined); // strings carry no origin
    expect(summary).to.include({ read: 1000, written: 1000, filtered: 0, rejected: 0 });
  });

  describe('row operations pass a batch on as a batch', () => {
    const text = Array.from({ length: 100 }, (_, i) => `${i},v${i}\n`).join('');

    it('to the next sluice stage and to csv.write; not to a plain Writable', async () => {
      const first = map((row: string[]) => [...row, 'x']);
      const second = filter((row: string[]) => row[0] !== '5');
      const writes = recordWrites(second);
      const sink = collector();
      const summary = await run(csv.read(bytes([text]), { header: false }), first, second, sink);
      expect(writes.length).to.equal(1);
      expect((writes[0] as RowBatch).rows.length).to.equal(100);
      expect(sink.rows.length).to.equal(99);
      expect(sink.rows.every((row) => !(row instanceof RowBatch))).to.equal(true);
      expect(summary).to.include({ read: 100, written: 99, filtered: 1 });
      const target = textSink();
      const writer = csv.write(target);
      const toFile = recordWrites(writer);
      await run(csv.read(bytes([text]), { header: false }), addColumn('n', (row: string[]) => row.length), writer);
      expect(toFile.length).to.equal(1);
      expect(target.text()).to.equal(text.replace(/\n/g, ',2\n'));
    });

    it('backpressure: a stage passing batches on takes no next batch while its output is full (control: one that does not wait)', async () => {
      // 1,000 rows in chunks of 10 lines (so batches of 10) into a map, then a tap stalled
      // on its first row: the map may hold a batch, its output one, the tap's input one.
      const lines = Array.from({ length: 1000 }, (_, i) => `${i}\n`);
      const chunks = Array.from({ length: 100 }, (_, c) => lines.slice(c * 10, c * 10 + 10).join(''));
      const taken = async (stageOf: () => Stage<string[], string[]>) => {
        const stage = stageOf();
        const stalled = tap(() => new Promise<void>(() => {}));
        const done = run(csv.read(bytes(chunks), { header: false }), stage, stalled, collector()).catch((e: Error) => e);
        const count = await quiesce(() => stage.stats.in);
        stage.destroy(new Error('stop'));
        await done;
        return count;
      };
      expect(await taken(() => map((row: string[]) => row))).to.be.within(10, 4 * 10);
      class Greedy extends Stage<string[], string[]> {
        override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
          const rows = chunk instanceof RowBatch ? chunk.rows : [chunk];
          this.stats.in += rows.length;
          this.push(new RowBatch(rows));
          callback();
        }
      }
      expect(await taken(() => new Greedy('greedy'))).to.equal(1000);
    });

    it('not before a take: no stage runs a batch ahead of the limit', async () => {
      let calls = 0;
      const first = map((row: string[]) => (calls++, row));
      const limit = take(3);
      const taken = recordWrites(limit);
      const sink = collector();
      await run(csv.read(bytes([text]), { header: false }), first, limit, sink);
      expect(taken.length).to.equal(3);
      expect(taken.every((w) => !(w instanceof RowBatch))).to.equal(true);
      expect(sink.rows.length).to.equal(3);
      // Rows flow one at a time from the map to take, so the map stops with the source at
      // the limit instead of running through the rest of its batch.
      expect(calls).to.equal(3);
    });
  });

  describe('rows stay single where a stream other than a sluice stage receives them', () => {
    const text = 'a,1\nb,2\n';
    it('a user Transform right after the source', async () => {
      const seen: unknown[] = [];
      const user = new Transform({ objectMode: true, transform: (row, _e, cb: TransformCallback) => (seen.push(row), cb(null, row)) });
      await run(csv.read(bytes([text]), { header: false }), user, collector());
      expect(seen).to.deep.equal([['a', '1'], ['b', '2']]);
    });
    it('the end of a pipe() (for await gets rows) and a plain sink', async () => {
      const rows: unknown[] = [];
      for await (const row of pipe(csv.read(bytes([text]), { header: false }))) rows.push(row);
      expect(rows).to.deep.equal([['a', '1'], ['b', '2']]);
      const sink = collector();
      await run(csv.read(bytes([text]), { header: false }), sink);
      expect(sink.rows).to.deep.equal([['a', '1'], ['b', '2']]);
    });
    it('a csv source given a highWaterMark in rows keeps it: its rows go one at a time', async () => {
      const after = map((row: string[]) => row.join('-'));
      const writes = recordWrites(after);
      const source = csv.read(bytes([text]), { header: false, highWaterMark: 4 });
      await run(source, after, collector());
      expect(writes).to.deep.equal([['a', '1'], ['b', '2']]);
      expect(source.readableHighWaterMark).to.equal(4);
    });

    it('csv.parse in the middle batches to the stage after it', async () => {
      const after = map((row: string[]) => row.join('-'));
      const writes = recordWrites(after);
      const sink = collector();
      await run(bytes([text]), csv.parse({ header: false }), after, sink);
      expect(writes.filter((w) => w instanceof RowBatch).length).to.equal(1);
      expect(sink.rows).to.deep.equal(['a-1', 'b-2']);
    });
  });

  describe('backpressure', () => {
    // One 500-row chunk reaches the stage as one batch, its consumer stalled: the batch must
    // stop where single rows would.
    async function taken(stage: Stage<string[], unknown>, batching = true): Promise<number> {
      rowBatching.enabled = batching;
      const text = Array.from({ length: 500 }, (_, i) => `${i}\n`).join('');
      const sink = new StalledSink(1);
      const done = run(csv.read(bytes([text]), { header: false }), stage, sink).catch((e: Error) => e);
      rowBatching.enabled = true;
      await until(() => sink.received.length === 1, 'the first row at the sink');
      const count = await quiesce(() => stage.stats.in);
      stage.destroy(new Error('stop'));
      await done;
      return count;
    }
    const asyncMap = () => map(async (row: string[]) => row, { concurrency: 2, highWaterMark: 4 });

    // Downstream of the stage: 1 row at the stalled sink; the stage's own output buffer holds 4.
    const downstream = 1 + 4;

    it('a batch pauses mid-way: an async map takes exactly the rows it takes one at a time (+ 2 in flight)', async () => {
      const batched = await taken(asyncMap());
      expect(batched).to.equal(await taken(asyncMap(), false));
      expect(batched).to.be.within(downstream - 2, downstream + 2);
    });

    it('and so does a sync stage (+ 1 held)', async () => {
      const sync = () => map((row: string[]) => row, { highWaterMark: 4 });
      const batched = await taken(sync());
      expect(batched).to.equal(await taken(sync(), false));
      expect(batched).to.be.within(downstream - 2, downstream + 1);
    });

    it('control: the same measurement catches a stage that takes a batch apart without waiting', async () => {
      class Greedy extends Stage<string[], string[]> {
        override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
          for (const row of chunk instanceof RowBatch ? chunk.rows : [chunk]) {
            this.stats.in++;
            this.push(row);
          }
          callback();
        }
      }
      expect(await taken(new Greedy('greedy'))).to.equal(500);
    });
  });

  it('a stage destroyed in the middle of a batch transforms none of its remaining rows', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `${i}\n`).join('');
    let calls = 0;
    const boom = new Error('destroyed at row 10');
    const stage = map((row: string[]) => {
      if (++calls === 10) stage.destroy(boom);
      return row;
    });
    const writes = recordWrites(stage);
    const error = await run(csv.read(bytes([text]), { header: false }), stage, collector()).catch((e: Error) => e);
    expect(error).to.equal(boom);
    expect(writes.length).to.equal(1);
    expect(calls).to.equal(10);
  });
});
