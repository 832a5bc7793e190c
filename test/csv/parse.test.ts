import { expect } from 'chai';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { CsvError, RowError, csv, originOf, run, type Reject, type RejectRecord } from '../../lib/index.js';
import { bytes, collector, parseChunks, rejection, thrown } from '../helpers/csv.js';

/** Splits `input` at every byte position into two chunks. */
function* twoWaySplits(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) yield [input.subarray(0, i), input.subarray(i)];
}

/**
 * A byte source of `total` bytes generated on demand: `head`, then `fill` repeated. Counts
 * the bytes pulled so a test can show the parser stopped long before the end.
 */
function generated(head: string, fill: string, total: number, chunkSize: number): Readable & { pulled: () => number } {
  let pulled = 0;
  const block = Buffer.from(fill.repeat(Math.ceil(chunkSize / fill.length)).slice(0, chunkSize));
  const source = new Readable({
    highWaterMark: chunkSize,
    read() {
      if (pulled >= total) {
        this.push(null);
        return;
      }
      const chunk = pulled === 0 ? Buffer.concat([Buffer.from(head), block]).subarray(0, chunkSize) : block;
      pulled += chunk.length;
      this.push(chunk);
    },
  });
  return Object.assign(source, { pulled: () => pulled });
}

describe('csv.parse()', () => {
  describe('rows and header', () => {
    it('gives arrays of strings and consumes the header line by default', async () => {
      const parsed = await parseChunks(['id,name\n1,Ann\n2,"Bo, Jr."\n']);
      expect(parsed.error).to.equal(null);
      expect(parsed.rows).to.deep.equal([
        ['1', 'Ann'],
        ['2', 'Bo, Jr.'],
      ]);
      expect(parsed.lines).to.deep.equal([2, 3]);
    });

    it("rows: 'objects' keys rows by the header", async () => {
      const parsed = await parseChunks(['id,name\n1,Ann\n2,Bo\n'], { rows: 'objects' });
      expect(parsed.rows).to.deep.equal([
        { id: '1', name: 'Ann' },
        { id: '2', name: 'Bo' },
      ]);
      expect(parsed.lines).to.deep.equal([2, 3]);
    });

    it('header: false makes the first line a row (line 1)', async () => {
      const parsed = await parseChunks(['id,name\n1,Ann\n'], { header: false });
      expect(parsed.rows).to.deep.equal([
        ['id', 'name'],
        ['1', 'Ann'],
      ]);
      expect(parsed.lines).to.deep.equal([1, 2]);
    });

    it('header as an array names the columns of a file without a header line', async () => {
      const objects = await parseChunks(['1,Ann\n2,Bo\n'], { header: ['id', 'name'], rows: 'objects' });
      expect(objects.rows).to.deep.equal([
        { id: '1', name: 'Ann' },
        { id: '2', name: 'Bo' },
      ]);
      expect(objects.lines).to.deep.equal([1, 2]);
      const arrays = await parseChunks(['1,Ann\n2,Bo,x\n'], { header: ['id', 'name'] });
      expect(arrays.rows).to.deep.equal([['1', 'Ann']]);
      expect(arrays.error?.message).to.equal('csv, line 2: expected 2 fields, got 3');
    });

    it("announces the header with a 'headers' event and keeps it in .headers", async () => {
      const parser = csv.parse();
      const announced: unknown[] = [];
      parser.on('headers', (names) => announced.push(names));
      parser.resume();
      parser.end('a,b\n1,2\n');
      await once(parser, 'end');
      expect(announced).to.deep.equal([['a', 'b']]);
      expect(parser.headers).to.deep.equal(['a', 'b']);
    });

    it('gives no rows for empty input and for a header alone', async () => {
      expect(await parseChunks([''])).to.deep.equal({ rows: [], lines: [], error: null });
      expect(await parseChunks(['a,b\n'])).to.deep.equal({ rows: [], lines: [], error: null });
      expect(await parseChunks(['a,b'])).to.deep.equal({ rows: [], lines: [], error: null });
    });

    it('delivers a last row without a trailing line break', async () => {
      const parsed = await parseChunks(['a,b\n1,2\n3,4']);
      expect(parsed.rows).to.deep.equal([
        ['1', '2'],
        ['3', '4'],
      ]);
    });

    it('keeps NUL bytes inside fields', async () => {
      const parsed = await parseChunks(['a,b\n1\u0000x,2\n']);
      expect(parsed.rows).to.deep.equal([['1\u0000x', '2']]);
    });

    it('honours delimiter, quote and trim', async () => {
      const parsed = await parseChunks([" a ; 'b;c' \n1;2\n"], { header: false, delimiter: ';', quote: "'", trim: true });
      expect(parsed.rows).to.deep.equal([
        ['a', 'b;c'],
        ['1', '2'],
      ]);
    });
  });

  describe('line numbers', () => {
    it('counts lines inside quoted fields (LF and CRLF) and CR-only line ends', async () => {
      const input = 'h1,h2\r\n' + '1,"two\r\nlines"\r\n' + '2,"three\nline\nfield"\n' + '3,x\r' + '4,y\n';
      const parsed = await parseChunks([input]);
      expect(parsed.rows).to.deep.equal([
        ['1', 'two\r\nlines'],
        ['2', 'three\nline\nfield'],
        ['3', 'x'],
        ['4', 'y'],
      ]);
      expect(parsed.lines).to.deep.equal([2, 4, 7, 8]);
    });

    it('skips empty lines by default but still counts them; a line of spaces is a row of one field (issue 11)', async () => {
      const parsed = await parseChunks(['a,b\n\n1,2\n   \n\r\n3,4\n\n'], { ragged: 'keep' });
      expect(parsed.rows).to.deep.equal([
        ['1', '2'],
        ['   '],
        ['3', '4'],
      ]);
      expect(parsed.lines).to.deep.equal([3, 4, 6]);
    });

    it('ignoreEmpty: false keeps empty lines as empty rows', async () => {
      const parsed = await parseChunks(['a\n\nb\n'], { header: false, ignoreEmpty: false, ragged: 'keep' });
      expect(parsed.rows).to.deep.equal([['a'], [], ['b']]);
      expect(parsed.lines).to.deep.equal([1, 2, 3]);
    });

    it('names source and line in originOf(row)', async () => {
      const parsed = await parseChunks(['a\n1\n'], { source: 'people.csv' });
      expect(originOf(parsed.rows[0])).to.deep.equal({ source: 'people.csv', line: 2 });
    });
  });

  describe('chunk boundaries', () => {
    const input = Buffer.from(
      '\ufeffname,note\r\n' +
        'José,"a,b"\r\n' +
        '"Zoë ""q""","x\r\ny\nz"\r\n' +
        '\r\n' +
        'Å😀,€\r' +
        'last,"r"\n',
    );
    const expected = {
      rows: [
        ['José', 'a,b'],
        ['Zoë "q"', 'x\r\ny\nz'],
        ['Å😀', '€'],
        ['last', 'r'],
      ],
      lines: [2, 3, 7, 8],
      error: null,
    };

    it('parses the whole input as expected (BOM stripped from the first name)', async () => {
      expect(await parseChunks([input])).to.deep.equal(expected);
      const objects = await parseChunks([input], { rows: 'objects' });
      expect(Object.keys(objects.rows[0] as object)).to.deep.equal(['name', 'note']);
    });

    it('gives identical rows and lines for a split at every byte position', async () => {
      // Covers splits inside the BOM, inside multi-byte characters, between \r and \n,
      // inside quoted fields and right after a doubled quote.
      for (const chunks of twoWaySplits(input)) {
        const parsed = await parseChunks(chunks);
        expect(parsed, `split at ${chunks[0].length}`).to.deep.equal(expected);
      }
    });

    it('gives identical rows when every byte is its own chunk', async () => {
      const chunks = [...input].map((byte) => Buffer.from([byte]));
      expect(await parseChunks(chunks)).to.deep.equal(expected);
    });

    it('gives identical rows for three-way splits around the CRLF inside a quoted field', async () => {
      const at = input.indexOf('x\r\ny');
      for (let i = at - 3; i <= at + 5; i++) {
        for (let j = i; j <= at + 8; j++) {
          const parsed = await parseChunks([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
          expect(parsed, `split at ${i} and ${j}`).to.deep.equal(expected);
        }
      }
    });

    it('strips a BOM split across chunks', async () => {
      const parsed = await parseChunks([Buffer.from([0xef]), Buffer.from([0xbb, 0xbf, 0x61]), 'b\n1\n'], { rows: 'objects' });
      expect(parsed.rows).to.deep.equal([{ ab: '1' }]);
    });
  });

  describe('syntax errors', () => {
    it('an unterminated quote fails with a CsvError naming its line, after the rows before it', async () => {
      const parsed = await parseChunks(['a,b\n1,2\n', '3,"4\n5,6\n7,8\n'], { source: 'in.csv' });
      expect(parsed.rows).to.deep.equal([['1', '2']]);
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal('in.csv, line 3, column 3: a quoted field is not closed');
      expect(parsed.error?.line).to.equal(3);
      expect((parsed.error as CsvError).column).to.equal(3);
      expect((parsed.error as CsvError).source).to.equal('in.csv');
    });

    it('text after a closing quote fails with a CsvError naming its line, after the rows before it', async () => {
      const parsed = await parseChunks(['a,b\n1,2\n"x\ny",z\n3,"4"secret\n5,6\n']);
      expect(parsed.rows).to.deep.equal([
        ['1', '2'],
        ['x\ny', 'z'],
      ]);
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal('csv, line 5, column 6: text after a closing quote (quote the whole field, double the quotes in it, or read with `trim`)');
      expect(parsed.error?.line).to.equal(5);
      // fast-csv's parser gives no position.
      const fast = await parseChunks(['a,b\n1,2\n"x\ny",z\n3,"4"secret\n5,6\n'], { parser: 'fast-csv' });
      expect(fast.error?.message).to.equal('csv, line 5: malformed CSV (text after a closing quote?)');
    });

    it('does not copy the raw input into the error message (TESTPLAN C22)', async () => {
      const parsed = await parseChunks(['a,b\n"p4ssw0rd"secret,2\n']);
      expect(parsed.error?.message).to.not.include('p4ssw0rd');
      expect(parsed.error?.message).to.equal('csv, line 2, column 11: text after a closing quote (quote the whole field, double the quotes in it, or read with `trim`)');
    });
  });

  describe('ragged rows', () => {
    const input = 'a,b\n1,2\n3\n4,5\n6,7,8\n9,10\n';

    it("'fail' (default) names the line and the counts, after the rows before it (TESTPLAN C18)", async () => {
      const parsed = await parseChunks([input]);
      expect(parsed.rows).to.deep.equal([['1', '2']]);
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal('csv, line 3: expected 2 fields, got 1');
      expect(parsed.error?.line).to.equal(3);
      const extra = await parseChunks(['a,b\n1,2\n3,4,5\n']);
      expect(extra.error?.message).to.equal('csv, line 3: expected 2 fields, got 3');
    });

    it("'reject' sends each ragged row with its line to the rejects target; in = ok + rejected (TESTPLAN C18)", async () => {
      const received: Reject[] = [];
      const parser = csv.parse({ ragged: 'reject', source: 'r.csv' });
      const sink = collector();
      const summary = await run(bytes([input.slice(0, 11), input.slice(11)]), parser, sink, { rejects: (r) => void received.push(r) });
      expect(sink.rows).to.deep.equal([
        ['1', '2'],
        ['4', '5'],
        ['9', '10'],
      ]);
      expect(received.map(({ stage, reason, row, index, origin }) => ({ stage, reason, row, index, origin }))).to.deep.equal([
        { stage: 'csv.parse(r.csv)', reason: 'expected 2 fields, got 1', row: ['3'], index: 2, origin: { source: 'r.csv', line: 3 } },
        { stage: 'csv.parse(r.csv)', reason: 'expected 2 fields, got 3', row: ['6', '7', '8'], index: 4, origin: { source: 'r.csv', line: 5 } },
      ]);
      expect(received[0].error).to.be.instanceOf(RowError);
      expect(parser.stats.in).to.equal(parser.stats.out + parser.stats.rejected);
      expect(parser.stats).to.deep.include({ in: 5, out: 3, rejected: 2 });
      const { ms: _ms, ...counts } = summary;
      expect(counts).to.deep.equal({ read: 5, written: 3, filtered: 0, rejected: 2, stoppedEarly: false });
    });

    it("'reject' writes RejectRecords to a Writable target with the row's line", async () => {
      const target = collector<RejectRecord>();
      await run(bytes(['a,b\n1,2\n"x\ny"\n3,4\n']), csv.parse({ ragged: 'reject', source: 'in.csv' }), collector(), { rejects: target });
      expect(target.rows).to.deep.equal([
        { stage: 'csv.parse(in.csv)', reason: 'expected 2 fields, got 1', source: 'in.csv', line: 3, index: 2, row: '["x\\ny"]' },
      ]);
    });

    it("'reject' with nobody listening fails instead of dropping the row", async () => {
      const parsed = await parseChunks([input], { ragged: 'reject' });
      expect(parsed.rows).to.deep.equal([['1', '2']]);
      expect(parsed.error?.message).to.equal(
        "csv.parse(csv) failed on row 2 (csv, line 3): expected 2 fields, got 1 — the row was to be rejected, but nothing receives rejects (pass `rejects` to run() or listen for 'reject' on the stage)",
      );
    });

    it("'reject' holds input back while a slow rejects sink has not stored the rejects", async () => {
      const held: (() => void)[] = [];
      let stalled = true;
      const target = new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(_record, _encoding, callback) {
          if (!stalled) return callback();
          held.push(callback);
          if (held.length === 1) firstWrite();
        },
      });
      let firstWrite!: () => void;
      const firstWritten = new Promise<void>((resolve) => (firstWrite = resolve));
      // 200 chunks, each with one good and one ragged row.
      const chunks = ['a,b\n', ...Array.from({ length: 200 }, (_, i) => `${i},x\n${i}\n`)];
      const parser = csv.parse({ ragged: 'reject' });
      const sink = collector();
      const done = run(bytes(chunks), parser, sink, { rejects: target });
      await firstWritten;
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      // The parser stops at the chunk whose reject is not stored (plus the stream buffers).
      expect(parser.stats.rejected).to.be.at.most(3);
      expect(parser.bytesIn).to.be.below(100);
      stalled = false;
      held.splice(0).forEach((callback) => callback());
      const summary = await done;
      expect(summary.rejected).to.equal(200);
      expect(summary.written).to.equal(200);
    });

    it("'keep' passes rows of any width", async () => {
      const parsed = await parseChunks([input], { ragged: 'keep' });
      expect(parsed.rows).to.deep.equal([['1', '2'], ['3'], ['4', '5'], ['6', '7', '8'], ['9', '10']]);
      expect(parsed.lines).to.deep.equal([2, 3, 4, 5, 6]);
    });
  });

  describe('header names', () => {
    it("fails on duplicate names with rows: 'objects'", async () => {
      const parsed = await parseChunks(['id,name,id\n1,2,3\n'], { rows: 'objects', source: 'dup.csv' });
      expect(parsed.rows).to.deep.equal([]);
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal('dup.csv, line 1: the header names column 0 and column 2 both "id"');
    });

    it("fails on an empty name with rows: 'objects', on the header's own line", async () => {
      const parsed = await parseChunks(['\n\na,,c\n1,2,3\n'], { rows: 'objects' });
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal("csv, line 3: the header's column 1 has no name");
    });

    it('allows duplicate names for array rows', async () => {
      const parsed = await parseChunks(['id,id\n1,2\n']);
      expect(parsed.rows).to.deep.equal([['1', '2']]);
    });

    it('makes __proto__ and constructor own properties without touching Object.prototype', async () => {
      const parsed = await parseChunks(['__proto__,constructor,polluted\n{"x":1},ctor,yes\n'], { rows: 'objects' });
      expect(parsed.error).to.equal(null);
      const row = parsed.rows[0] as Record<string, unknown>;
      expect(Object.keys(row)).to.deep.equal(['__proto__', 'constructor', 'polluted']);
      expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).to.equal('{"x":1}');
      expect(Object.hasOwn(row, 'constructor')).to.equal(true);
      expect(row.constructor).to.equal('ctor');
      expect(Object.getPrototypeOf(row)).to.equal(Object.prototype);
      expect(Object.hasOwn(Object.prototype, 'polluted')).to.equal(false);
      expect(({} as Record<string, unknown>).x).to.equal(undefined);
      expect({}.constructor).to.equal(Object);
    });
  });

  describe('limits', () => {
    it('maxRowBytes: a quote left open in 20 MB of input fails early, having pulled about maxRowBytes (TESTPLAN C17)', async function () {
      this.timeout(5000);
      const maxRowBytes = 1 << 20;
      const chunkSize = 64 * 1024;
      const source = generated('a,b\n1,2\n3,"', 'lorem ipsum, dolor sit\namet\n', 20_000_000, chunkSize);
      const sink = collector();
      const started = performance.now();
      const error = await rejection(run(source, csv.parse({ maxRowBytes }), sink));
      const elapsed = performance.now() - started;
      expect(error).to.be.instanceOf(CsvError);
      expect(error.message).to.equal('csv, line 3: a row longer than maxRowBytes (1048576) starts here; is a quote left open?');
      expect(sink.rows).to.deep.equal([['1', '2']]);
      // Pulled: the row up to the limit, plus what the stream buffers hold (a few chunks).
      expect(source.pulled()).to.be.at.least(maxRowBytes);
      expect(source.pulled()).to.be.below(maxRowBytes + 6 * chunkSize);
      // Leeway: the parse itself takes ~0.1 s here; a quadratic rescan took seconds.
      expect(elapsed).to.be.below(2000);
    });

    it('maxRowBytes: a giant unquoted field fails the same way, in small chunks too (TESTPLAN C17)', async function () {
      this.timeout(5000);
      const maxRowBytes = 1 << 20;
      const chunkSize = 4096;
      const source = generated('id,text\n1,', 'x', 20_000_000, chunkSize);
      const started = performance.now();
      const error = await rejection(run(source, csv.parse({ maxRowBytes }), collector()));
      expect(error.message).to.equal('csv, line 2: a row longer than maxRowBytes (1048576) starts here; is a quote left open?');
      expect(source.pulled()).to.be.below(maxRowBytes + 64 * chunkSize);
      // Leeway: ~0.1 s here; rescanning the open row on every 4 KB chunk took ~6 s.
      expect(performance.now() - started).to.be.below(2000);
    });

    it('maxRowBytes counts bytes, not characters', async () => {
      const field = 'é'.repeat(600); // 1200 bytes
      const failed = await parseChunks([`a\n"${field}`], { maxRowBytes: 1000 });
      expect(failed.error?.message).to.equal('csv, line 2: a row longer than maxRowBytes (1000) starts here; is a quote left open?');
    });

    it('long rows under maxRowBytes arriving in small chunks parse exactly', async () => {
      const long = 'y'.repeat(300_000);
      const quoted = `q"${'z'.repeat(150_000)}\n`;
      const text = `a,b\n1,${long}\n2,"${quoted.replace(/"/g, '""')}"\n3,short\n`;
      const buffer = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let i = 0; i < buffer.length; i += 4096) chunks.push(buffer.subarray(i, i + 4096));
      const parsed = await parseChunks(chunks, { maxRowBytes: 400_000 });
      expect(parsed.error).to.equal(null);
      expect(parsed.rows).to.deep.equal([
        ['1', long],
        ['2', quoted],
        ['3', 'short'],
      ]);
      expect(parsed.lines).to.deep.equal([2, 3, 5]);
    });

    it('maxColumns: a row of 200,000 fields fails with the default limit, quickly (TESTPLAN C17)', async () => {
      const started = performance.now();
      const parsed = await parseChunks(['a\n', ' ,'.repeat(200_000), '\n']);
      expect(parsed.error?.message).to.equal('csv, line 2: 200001 fields, more than maxColumns (10000)');
      // Leeway: ~0.2 s here.
      expect(performance.now() - started).to.be.below(2000);
    });

    it('long runs of spaces around fields parse in linear time (no ReDoS) (TESTPLAN C21)', async () => {
      const started = performance.now();
      const spaces = ' '.repeat(500_000);
      const parsed = await parseChunks([`a,b\n${spaces},x\n${spaces}"${spaces}"${spaces},y\n`], { trim: true });
      expect(parsed.error).to.equal(null);
      expect(parsed.rows).to.have.length(2);
      expect((parsed.rows[0] as string[])).to.deep.equal(['', 'x']);
      expect((parsed.rows[1] as string[])[0]).to.equal(spaces);
      // Without trim the spaces are data, and a closing quote followed by them fails at once.
      const strict = await parseChunks([`a,b\n${spaces},x\n"${spaces}"${spaces},y\n`]);
      expect(strict.rows).to.deep.equal([[spaces, 'x']]);
      expect(strict.error?.message).to.equal('csv, line 3, column 500003: text after a closing quote (quote the whole field, double the quotes in it, or read with `trim`)');
      expect(performance.now() - started).to.be.below(2000);
    });

    it('maxColumns: too many fields fail with the line', async () => {
      const parsed = await parseChunks(['a,b,c\n1,2,3\n1,2,3,4,5\n'], { maxColumns: 3, ragged: 'keep' });
      expect(parsed.rows).to.deep.equal([['1', '2', '3']]);
      expect(parsed.error).to.be.instanceOf(CsvError);
      expect(parsed.error?.message).to.equal('csv, line 3: 5 fields, more than maxColumns (3)');
      const header = await parseChunks(['a,b,c,d\n1,2,3,4\n'], { maxColumns: 3 });
      expect(header.error?.message).to.equal('csv, line 1: 4 fields, more than maxColumns (3)');
      const exact = await parseChunks(['a,b,c\n1,2,3\n'], { maxColumns: 3 });
      expect(exact.error).to.equal(null);
    });
  });

  describe('options', () => {
    const cases: [unknown, string][] = [
      [null, 'csv.parse(): expected `options` to be an object, got `null`'],
      [{ rows: 'lists' }, "csv.parse(): expected `rows` to be one of 'arrays', 'objects', got `lists` (string)"],
      [{ header: 3 }, 'csv.parse(): expected `header` to be a boolean or an array of column names, got `3` (number)'],
      [{ header: ['a', 1] }, 'csv.parse(): expected `header` to be a boolean or an array of column names, got an array of length 2'],
      [{ header: ['a', 'a'] }, 'csv.parse(): expected `header` to be unique, non-empty column names: the header names column 0 and column 1 both "a"'],
      [{ header: ['a', ''] }, "csv.parse(): expected `header` to be unique, non-empty column names: the header's column 1 has no name"],
      [{ rows: 'objects', header: false }, 'csv.parse(): expected `header` to be true or an array of names when rows are objects, got `false` (boolean)'],
      [{ ragged: 'x' }, "csv.parse(): expected `ragged` to be one of 'fail', 'reject', 'keep', got `x` (string)"],
      [{ rows: 'objects', ragged: 'keep' }, "csv.parse(): expected `ragged` to be 'fail' or 'reject' when rows are objects, got `keep` (string)"],
      [{ delimiter: ';;' }, 'csv.parse(): expected `delimiter` to be a single character, got `;;` (string)'],
      [{ quote: 5 }, 'csv.parse(): expected `quote` to be a single character, got `5` (number)'],
      [{ maxRowBytes: 0 }, 'csv.parse(): expected `maxRowBytes` to be an integer from 1 and up, got `0` (number)'],
      [{ maxColumns: -1 }, 'csv.parse(): expected `maxColumns` to be an integer from 1 and up, got `-1` (number)'],
      [{ highWaterMark: 0 }, 'csv.parse(): expected `highWaterMark` to be an integer from 1 and up, got `0` (number)'],
    ];
    for (const [options, message] of cases) {
      it(`throws a TypeError for ${JSON.stringify(options)}`, () => {
        const error = thrown(() => csv.parse(options as never));
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(message);
      });
    }

    it('does not mutate the options object', async () => {
      const options = Object.freeze({ rows: 'objects' as const, header: Object.freeze(['x', 'y']) });
      const parsed = await parseChunks(['1,2\n'], options);
      expect(parsed.rows).to.deep.equal([{ x: '1', y: '2' }]);
      expect(options.header).to.deep.equal(['x', 'y']);
    });
  });
});
