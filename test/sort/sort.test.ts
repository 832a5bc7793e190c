import { expect } from 'chai';
import fc from 'fast-check';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortError, SpillError, csv, originOf, pipe, run, sort, take, type SortBy } from '../../lib/index.js';
import { CsvOrigin } from '../../lib/csv/raw-line.js';
import { setOrigin } from '../../lib/core/origin.js';
import { spillIo } from '../../lib/spill/spill-folder.js';
import { spillDirPerSuite } from '../helpers/files.js';
import { CountingSource, StalledSink, closed, collect, destroyAll, expectTypeErrors, quiesce, rejectionOf, until } from '../helpers/streams.js';

async function sorted<T>(rows: T[], by: SortBy<T>, options: Parameters<typeof sort>[1]): Promise<{ out: T[]; stage: ReturnType<typeof sort<T>> }> {
  const stage = sort<T>(by, options);
  const sink = collect<T>();
  await pipeline(Readable.from(rows, { objectMode: true }), stage, sink);
  return { out: sink.rows, stage };
}

async function collectRows<T = string[]>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream) out.push(x as T);
  return out;
}

describe('sort()', () => {
  const tmp = spillDirPerSuite('sluice-sort-test-');

  describe('behaviour', () => {
    it('sorts by a column index, stable, in memory when the input fits (no folder made)', async () => {
      const rows = [['b', 1], ['a', 2], ['b', 3], ['a', 4]];
      const { out, stage } = await sorted(rows, 0, { tmpDir: tmp.path });
      expect(out).to.deep.equal([['a', 2], ['a', 4], ['b', 1], ['b', 3]]);
      expect(stage.runsWritten).to.equal(0);
      expect(stage.bytesSpilled).to.equal(0);
    });

    it('sorts by names, a key function and desc keys; the empty input gives no rows', async () => {
      const rows = [{ s: 'x', n: 2 }, { s: 'y', n: 10 }, { s: 'x', n: 10 }];
      expect((await sorted(rows, [{ key: 'n', order: 'desc' }, 's'], {})).out).to.deep.equal([{ s: 'x', n: 10 }, { s: 'y', n: 10 }, { s: 'x', n: 2 }]);
      expect((await sorted(rows, (r) => -r.n, {})).out.map((r) => r.n)).to.deep.equal([10, 10, 2]);
      expect((await sorted([], 0, {})).out).to.deep.equal([]);
    });

    it('orders numbers numerically, Dates by time, and puts null/undefined last; `compare` overrides', async () => {
      const rows = [[10], [null], [9], [2], [undefined], [-1]];
      expect((await sorted(rows, 0, {})).out).to.deep.equal([[-1], [2], [9], [10], [null], [undefined]]);
      const dates = [[new Date(5)], [new Date(1)]];
      expect((await sorted(dates, 0, {})).out).to.deep.equal([[new Date(1)], [new Date(5)]]);
      const asStrings = (a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
      expect((await sorted([[10], [9], [2]], 0, { compare: asStrings })).out).to.deep.equal([[10], [2], [9]]);
    });

    it('spills runs under a tiny budget into a private folder (0700, files 0600) and merges them', async () => {
      const rows = Array.from({ length: 500 }, (_, i) => ({ k: (i * 7919) % 101, i }));
      const stage = sort<{ k: number; i: number }>('k', { memory: 2000, tmpDir: tmp.path, maxOpenFiles: 4 });
      let modes: string[] = [];
      const sink = collect<{ k: number; i: number }>();
      stage.once('data', () => undefined); // flowing is left to the sink
      const probe = new Promise<void>((resolve) => {
        const check = async () => {
          const folder = stage.spillFolder;
          if (folder) {
            const files = await readdir(folder);
            if (files.length > 0) {
              modes = [((await stat(folder)).mode & 0o777).toString(8), ((await stat(`${folder}/${files[0]}`)).mode & 0o777).toString(8)];
              return resolve();
            }
          }
          setImmediate(check);
        };
        check();
      });
      const done = pipeline(Readable.from(rows, { objectMode: true }), stage, sink);
      await probe;
      await done;
      expect(modes).to.deep.equal(['700', '600']);
      expect(stage.runsWritten).to.be.greaterThan(4); // more runs than files open at once: a second pass
      expect(sink.rows).to.deep.equal([...rows].sort((a, b) => a.k - b.k));
    });

    it('equals a stable in-memory sort for random rows and tiny budgets (property)', async () => {
      const cell = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(null, 'a', 'b', 'é', '😀', ''), fc.string({ maxLength: 3 }));
      await fc.assert(fc.asyncProperty(
        fc.array(fc.tuple(cell, cell, fc.nat()), { maxLength: 300 }),
        fc.integer({ min: 50, max: 3000 }),
        fc.integer({ min: 2, max: 5 }),
        fc.boolean(),
        async (rows, memory, maxOpenFiles, desc) => {
          const by = [{ key: 0, order: desc ? 'desc' as const : 'asc' as const }, { key: 1 }];
          const cmp = (a: unknown, b: unknown) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : typeof a !== typeof b ? (typeof a === 'number' ? -1 : 1) : (a as number) < (b as number) ? -1 : 1);
          const expected = rows.map((r, i) => ({ r, i })).sort((x, y) => (desc ? -1 : 1) * cmp(x.r[0], y.r[0]) || cmp(x.r[1], y.r[1]) || x.i - y.i).map((x) => x.r);
          const { out } = await sorted(rows, by, { memory, maxOpenFiles, tmpDir: tmp.path });
          expect(out).to.deep.equal(expected);
        },
      ), { numRuns: 60 });
    });

    it('keeps every value type and the rows\' origins through a spill', async () => {
      const rows = [3, 1, 2].map((n) => {
        const row = { n, big: BigInt(n) ** 30n, when: new Date(n), bytes: Buffer.from([n]), nested: { a: [n, -0, NaN] } };
        setOrigin(row, { source: 'in.csv', line: n + 1 });
        return row;
      });
      const { out, stage } = await sorted(rows, 'n', { memory: 1, tmpDir: tmp.path });
      expect(stage.runsWritten).to.equal(3);
      expect(out).to.deep.equal([rows[1], rows[2], rows[0]]);
      expect(out.map((r) => originOf(r)?.line)).to.deep.equal([2, 3, 4]);
    });

    it('CSV rows keep their raw lines through a spill (csv.format copies them), a changed row does not', async () => {
      const lines = ['k,n,v', 'b,2, x', 'a,1,y', 'c,3,"q,uoted"', 'a,0,z'];
      const rows = await collectRows(Readable.from([`${lines.join('\n')}\n`]).pipe(csv.parse()));
      rows[3]![2] = 'changed';
      const { out, stage } = await sorted(rows, [0, 1], { memory: 1, tmpDir: tmp.path });
      expect(stage.runsWritten).to.equal(4);
      expect(out).to.deep.equal([['a', '0', 'changed'], ['a', '1', 'y'], ['b', '2', ' x'], ['c', '3', 'q,uoted']]);
      expect(out.map((r) => CsvOrigin.rawOf(originOf(r))?.text)).to.deep.equal([undefined, 'a,1,y', 'b,2, x', undefined]);
      expect(out.map((r) => originOf(r)?.line)).to.deep.equal([5, 3, 2, 4]);
      const text = await collectRows(Readable.from(out).pipe(csv.format()));
      expect(text.join('')).to.equal('a,0,changed\na,1,y\nb,2," x"\nc,3,"q,uoted"\n');
    });
  });

  describe('options', () => {
    it('rejects invalid options with the documented messages', () => {
      expectTypeErrors([
        [() => sort(-1), 'sort(): expected `by` to be a column index from 0 and up, a column name or a function, got `-1` (number)'],
        [() => sort([]), 'sort(): expected `by` to be a column, a function or a non-empty list of them, got an array of length 0'],
        [() => sort([{ key: 0, order: 'up' as 'asc' }]), "sort(): expected `by[0].order` to be 'asc' or 'desc', got `\"up\"` (string)".replace('`"up"`', '`up`')],
        [() => sort(0, { memory: '64 parsecs' }), "sort(): expected `memory` to be a byte count from 1 and up or a size such as '64MB', got `64 parsecs` (string)"],
        [() => sort(0, { maxOpenFiles: 1 }), 'sort(): expected `maxOpenFiles` to be an integer from 2 and up, got `1` (number)'],
        [() => sort(0, { tmpDir: '' }), 'sort(): expected `tmpDir` to be a folder path, got `` (string)'],
      ]);
    });

    it('does not mutate the options object', () => {
      const options = Object.freeze({ memory: '1MB', maxOpenFiles: 3 });
      sort(0, options).destroy();
      expect(options).to.deep.equal({ memory: '1MB', maxOpenFiles: 3 });
    });
  });

  describe('backpressure', () => {
    it('in the merge phase, pushes only up to the high-water mark while the consumer is stalled', async () => {
      const source = new CountingSource<number>(400, { row: (i: number) => 1000 - i });
      const stage = sort<number>((n) => n, { memory: 500, tmpDir: tmp.path, highWaterMark: 8 });
      const sink = new StalledSink<number>(1);
      const done = pipeline(source, stage, sink).catch((e: Error) => e);
      try {
        await once(sink, 'received');
        await quiesce(() => stage.stats.out);
        expect(stage.runsWritten).to.be.greaterThan(1);
        expect(stage.stats.out).to.be.at.most(8 + 2); // its buffer, the sink's one row, one in hand
        expect(stage.readableLength).to.be.at.most(8);
        const before = stage.stats.out;
        for (let i = 1; i <= 5; i++) {
          sink.release();
          await until(() => sink.received.length > i, 'the next row');
        }
        await quiesce(() => stage.stats.out);
        expect(stage.stats.out).to.be.at.most(before + 5); // it pushed again only as rows were taken
        expect(stage.stats.out).to.be.above(before);
        const lowest = sink.received[0]!;
        expect(sink.received).to.deep.equal(Array.from({ length: 6 }, (_, i) => lowest + i));
      } finally {
        await destroyAll(source, stage, sink);
        await done;
      }
    });
  });

  describe('errors, early stop and abort (the folder is always removed)', () => {
    it('a full disk (ENOSPC) fails with an error naming tmpDir and the bytes written', async () => {
      const write = spillIo.write;
      let calls = 0;
      spillIo.write = async (handle, bytes) => {
        if (++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return write(handle, bytes);
      };
      try {
        const rows = Array.from({ length: 200 }, (_, i) => [i % 13, 'x'.repeat(50)]);
        const error = await rejectionOf(pipeline(Readable.from(rows), sort(0, { memory: 1000, tmpDir: tmp.path }), collect()));
        expect(error).to.be.instanceOf(SpillError);
        expect(error.message).to.match(new RegExp(`^sort\\(\\) could not spill to ${tmp.path} after \\d+ bytes: ENOSPC: no space left on device, write$`));
        expect((error as SpillError).code).to.equal('ENOSPC');
        expect((error as SpillError).bytesWritten).to.be.greaterThan(0);
      } finally {
        spillIo.write = write;
      }
    });

    it('a corrupted run file fails the merge loudly', async () => {
      const write = spillIo.write;
      spillIo.write = (handle, bytes) => {
        if (bytes.length > 20) bytes[bytes.length - 1] ^= 0xff;
        return write(handle, bytes);
      };
      try {
        const rows = Array.from({ length: 50 }, (_, i) => [50 - i]);
        const error = await rejectionOf(pipeline(Readable.from(rows), sort(0, { memory: 200, tmpDir: tmp.path }), collect()));
        expect(error.message).to.match(/run-\d+ is corrupted: a block's checksum does not match$/);
      } finally {
        spillIo.write = write;
      }
    });

    it('take(n) after it stops early under run(); the folder is removed', async () => {
      const rows = Array.from({ length: 300 }, (_, i) => [(i * 31) % 97, i]);
      const stage = sort(0, { memory: 300, tmpDir: tmp.path });
      const sink = collect();
      const summary = await run(Readable.from(rows), stage, take(5), sink);
      expect(sink.rows.map((r) => (r as number[])[0])).to.deep.equal([0, 0, 0, 0, 1]);
      expect(summary.written).to.equal(5);
      expect(stage.runsWritten).to.be.greaterThan(1);
    });

    it('a for await with break over pipe() cleans up', async () => {
      const rows = Array.from({ length: 300 }, (_, i) => [300 - i]);
      const seen: unknown[] = [];
      const stage = sort(0, { memory: 300, tmpDir: tmp.path });
      for await (const row of pipe(Readable.from(rows), stage)) {
        seen.push(row);
        if (seen.length === 3) break;
      }
      await closed(stage); // 'close' comes once the folder is removed
      expect(seen).to.deep.equal([[1], [2], [3]]);
    });

    it('an abort mid-input fails with AbortError and removes the folder; an aborted signal throws at once', async () => {
      const controller = new AbortController();
      const source = new CountingSource<number[]>(Infinity, { row: (i: number) => [i] });
      const stage = sort<number[]>(0, { memory: 300, tmpDir: tmp.path, signal: controller.signal });
      const done = rejectionOf(pipeline(source, stage, collect()));
      await quiesce(() => stage.runsWritten > 2);
      controller.abort();
      const error = await done;
      expect(error).to.be.instanceOf(AbortError);
      expect(() => sort(0, { signal: controller.signal })).to.throw(AbortError);
    });

    it('a key function that throws fails naming the row; a compare that throws fails naming the stage', async () => {
      const error = await rejectionOf(pipeline(Readable.from([[1], [2]]), sort(() => { throw new Error('no key'); }), collect()));
      expect(error.message).to.equal('sort() failed on row 1: no key');
      const bad = await rejectionOf(pipeline(Readable.from([[1], [2]]), sort(0, { compare: () => { throw new Error('no order'); } }), collect()));
      expect(bad.message).to.equal('sort() failed comparing rows: no order');
    });

    it('a row holding a value that cannot be encoded (a function) fails naming the row', async () => {
      const error = await rejectionOf(pipeline(Readable.from([[1], [2, () => 0]]), sort(0), collect()));
      expect(error.message).to.equal('sort() failed on row 2: a function cannot be spilled to disk');
    });
  });
});
