import { expect } from 'chai';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { RowError, csv, map, run, take } from '../../lib/index.js';
import { closed, deferred, rejection, textSink, thrown } from '../helpers/csv.js';
import { openFilesUnder, readText, tempDir, type TempDir } from '../helpers/files.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('csv.write()', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
  });

  describe('to a path', () => {
    it('has the file completely written and closed when run() resolves', async () => {
      const file = dir.file('complete.csv');
      const rows = range(5_000).map((i) => ({ id: i, name: `name ${i}`, note: i % 7 === 0 ? 'a, "b"' : '' }));
      const summary = await run(rows, csv.write(file));
      // Read at once, with no wait: the sink finished only after the file was closed.
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
      let expected = 'id,name,note\n';
      for (const row of rows) expected += `${row.id},name ${row.id},${row.note && '"a, ""b"""'}\n`;
      expect(await readText(file)).to.equal(expected);
      expect(summary.written).to.equal(5_000);
    });

    it('writes the header array even when no row arrives', async () => {
      const file = dir.file('empty-with-header.csv');
      await run([], csv.write(file, { headers: ['vehicle_make', 'issuing_agency', 'address'] }));
      expect(await readText(file)).to.equal('vehicle_make,issuing_agency,address\n');
    });

    it('writes an empty file for no rows and no header names', async () => {
      const file = dir.file('empty.csv');
      await run([], csv.write(file));
      expect(await readText(file)).to.equal('');
    });

    it('writes arrays under a header array', async () => {
      const file = dir.file('arrays.csv');
      await run(
        [
          ['FORD', 'P', '1 Main St, NJ'],
          ['FORD', 'P', 'x"y'],
        ],
        csv.write(file, { headers: ['make', 'agency', 'address'] }),
      );
      expect(await readText(file)).to.equal('make,agency,address\nFORD,P,"1 Main St, NJ"\nFORD,P,"x""y"\n');
    });

    it('fails on an array row of the wrong width, naming the row, and closes the file', async () => {
      const file = dir.file('wrong-width.csv');
      const error = await rejection(run([[1, 2], [3, 4], [5]], csv.write(file, { headers: ['a', 'b'] })));
      expect(error).to.be.instanceOf(RowError);
      expect(error.message).to.equal(`csv.write(${file}) failed on row 3: the row has 1 fields, the header 2`);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });

    it('closes the file when an upstream stage fails', async () => {
      const file = dir.file('upstream-fails.csv');
      const error = await rejection(
        run(
          range(100),
          map((x: number) => {
            if (x === 50) throw new Error('fifty');
            return [x];
          }),
          csv.write(file),
        ),
      );
      expect(error.message).to.equal('map() failed on row 50: fifty');
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });

    it('closes an open file when destroyed early, without finishing', async () => {
      const file = dir.file('destroyed.csv');
      const output = createWriteStream(file);
      await once(output, 'open');
      const sink = csv.write(output);
      let finished = false;
      sink.on('finish', () => (finished = true));
      await new Promise<void>((resolve, reject) => sink.write(['a'], (error) => (error ? reject(error) : resolve())));
      expect(openFilesUnder(dir.path)).to.deep.equal([file]);
      sink.destroy();
      await closed(sink);
      // The sink's 'close' waits for the file's.
      expect(output.closed).to.equal(true);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
      expect(finished).to.equal(false);
    });

    it('closes the file of a sink destroyed while the file is still opening', async () => {
      const file = dir.file('destroyed-at-once.csv');
      const sink = csv.write(file);
      sink.destroy();
      await closed(sink);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });

    it('works with take(n) before it: stoppedEarly, file complete', async () => {
      const file = dir.file('take.csv');
      const summary = await run(
        function* () {
          for (let i = 1; ; i++) yield [i];
        },
        take(3),
        csv.write(file, { headers: ['n'] }),
      );
      expect(summary.stoppedEarly).to.equal(true);
      expect(await readText(file)).to.equal('n\n1\n2\n3\n');
    });

    it('counts the rows it wrote in .rows', async () => {
      const sink = csv.write(dir.file('count.csv'));
      await run([[1], [2]], sink);
      expect(sink.rows).to.equal(2);
    });
  });

  describe('read then written back: the same file (issue 11)', () => {
    const roundTrip = async (name: string, text: string, stages: unknown[] = []) => {
      const from = await dir.write(`${name}-in.csv`, text);
      const to = dir.file(`${name}-out.csv`);
      await (run as (...args: unknown[]) => Promise<unknown>)(csv.read(from, { rows: 'objects' }), ...stages, csv.write(to));
      return readText(to);
    };

    it('keeps the column order of integer-like names (JavaScript lists them first)', async () => {
      const text = 'b,1,a,10\nx,y,z,w\n';
      expect(await roundTrip('integers', text)).to.equal(text);
      // Through a stage that makes new rows (the origin is kept), a column appended at the end.
      expect(await roundTrip('integers-map', text, [map((row: Record<string, string>) => ({ ...row, extra: '!' }))])).to.equal('b,1,a,10,extra\nx,y,z,w,!\n');
    });

    it('keeps __proto__ and names with spaces as columns', async () => {
      const text = '__proto__, a ,2\n1,2,3\n';
      expect(await roundTrip('proto', text)).to.equal('__proto__," a ",2\n1,2,3\n');
    });

    it('a header-only file gives a header-only file', async () => {
      expect(await roundTrip('header-only', 'b,1,a\n')).to.equal('b,1,a\n');
      // Also through a filter, while no row was read at all.
      expect(await roundTrip('header-only-filter', 'b,1,a\n', [map((row: unknown) => row)])).to.equal('b,1,a\n');
      // Rows that were read but all dropped: nothing is known of their shape, no header.
      const filtered = await roundTrip('all-filtered', 'b,1,a\nx,y,z\n', [take(0)]);
      expect(filtered).to.equal('');
    });

    it('a one-column row with an empty value is written as "" and read back', async () => {
      expect(await roundTrip('one-column', 'a\n""\nx\n')).to.equal('a\n""\nx\n');
    });
  });

  describe('to a Writable', () => {
    it('ends the target by default', async () => {
      const target = textSink();
      await run([{ a: 1 }], csv.write(target));
      expect(target.text()).to.equal('a\n1\n');
      expect(target.writableEnded).to.equal(true);
    });

    it('end: false leaves the target open for more', async () => {
      const target = textSink();
      await run([{ a: 1 }], csv.write(target, { end: false }));
      expect(target.writableEnded).to.equal(false);
      target.end('more\n');
      await once(target, 'finish');
      expect(target.text()).to.equal('a\n1\nmore\n');
    });

    it('writes into an fs.WriteStream and closes it', async () => {
      const file = dir.file('given-stream.csv');
      const output = createWriteStream(file);
      await run([[1, 'x']], csv.write(output));
      expect(output.closed).to.equal(true);
      expect(await readText(file)).to.equal('1,x\n');
    });

    it('fails with the target error', async () => {
      const boom = new Error('EPIPE-ish');
      const target = new Writable({
        write(_chunk, _encoding, callback) {
          callback(boom);
        },
      });
      const error = await rejection(run(range(10).map((i) => [i]), csv.write(target)));
      expect(error).to.equal(boom);
    });
  });

  describe('backpressure', () => {
    it('a stalled target stops the source; the rows held stay bounded', async () => {
      const total = 20_000;
      let pulled = 0;
      let stalled = true;
      const held: (() => void)[] = [];
      const firstWrite = deferred();
      const parts: Buffer[] = [];
      const target = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, callback) {
          parts.push(chunk);
          if (!stalled) return callback();
          held.push(callback);
          firstWrite.resolve();
        },
      });
      const done = run(
        function* () {
          while (pulled < total) yield [++pulled, 'row'];
        },
        csv.write(target),
      );
      await firstWrite.promise;
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      const pulledWhileStalled = pulled;
      // ~8 bytes a row: the formatter's 16 KB text buffer holds ~2,000 rows; object-mode
      // buffers (source, gate, sink) another ~64. Far below the 20,000 rows of the source.
      expect(pulledWhileStalled).to.be.below(3_000);
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(pulled, 'nothing more is pulled while the target is stalled').to.equal(pulledWhileStalled);
      stalled = false;
      held.splice(0).forEach((callback) => callback());
      const summary = await done;
      expect(summary.written).to.equal(total);
      const text = Buffer.concat(parts).toString();
      expect(text.length).to.equal(range(total).reduce((sum, i) => sum + `${i},row\n`.length, 0));
      expect(text.endsWith(`${total},row\n`)).to.equal(true);
    });
  });

  describe('options', () => {
    it('throws a TypeError for a target that is neither path nor Writable', () => {
      const error = thrown(() => csv.write(42 as never));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('csv.write(): expected `target` to be a path or a Writable, got `42` (number)');
    });

    it('throws a TypeError for bad headers without creating the file', async () => {
      const file = dir.file('never-created.csv');
      const error = thrown(() => csv.write(file, { headers: 3 as never }));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('csv.write(): expected `headers` to be a boolean, an array of column names or a function returning one, got `3` (number)');
      const probe = csv.write(dir.file('probe.csv'));
      probe.destroy();
      await closed(probe); // file operations run in order: had the first been opened, it would be by now
      expect(existsSync(file)).to.equal(false);
      expect(openFilesUnder(dir.path)).to.deep.equal([]);
    });
  });
});
