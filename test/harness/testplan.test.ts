/**
 * TESTPLAN items that had no test of their own: B13 (the original error from function and
 * async-generator stages), C21 (ReDoS), C22 (no raw user data in parse errors) and a
 * random-bytes fuzz of csv.parse.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { inspect } from 'node:util';
import { CsvError, csv, run, type CsvParseOptions } from '../../lib/index.js';
import { collector, parseChunks, rejection } from '../helpers/csv.js';
import { expectNoUnhandledRejections } from '../helpers/streams.js';

const require = createRequire(import.meta.url);

function* naturals(): Generator<number> {
  for (let i = 1; i <= 100; i++) yield i;
}

/** Whether `version` (x.y.z) is at least `min`. */
function atLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i] > b[i];
  }
  return true;
}

describe('TESTPLAN B13: the original error from every kind of stage', () => {
  // Every failure must arrive as run()'s rejection, never as a stray unhandled rejection
  // (the leak gate checks this too; here it is also checked right after each test).
  expectNoUnhandledRejections();

  const expectOriginal = (error: Error & { code?: unknown }, boom: Error) => {
    expect(error).to.equal(boom);
    expect(error.code).to.not.equal('ERR_STREAM_PREMATURE_CLOSE');
    expect(error.code).to.not.equal('ERR_MULTIPLE_CALLBACK');
  };

  it('TESTPLAN B13: a plain function stage that throws synchronously: that error, rows before it delivered', async () => {
    const boom = new Error('sync throw in a function stage');
    const sink = collector<number>();
    const error = await rejection(
      run(naturals, (x: number) => {
        if (x === 3) throw boom;
        return x;
      }, sink),
    );
    expectOriginal(error, boom);
    expect(sink.rows).to.deep.equal([1, 2]);
  });

  it('TESTPLAN B13: an async generator function stage (per row) that throws: that error', async () => {
    const boom = new Error('thrown inside an async generator stage');
    const sink = collector<number>();
    const error = await rejection(
      run(naturals, async function* (x: number) {
        await Promise.resolve();
        if (x === 4) throw boom;
        yield x;
      }, sink),
    );
    expectOriginal(error, boom);
    expect(sink.rows).to.deep.equal([1, 2, 3]);
  });

  it('TESTPLAN B13: an async generator over the whole input (Duplex.from) that throws: that error, every stage closed', async () => {
    const boom = new Error('thrown inside an async generator Duplex');
    const stage = Duplex.from(async function* (source: AsyncIterable<number>) {
      for await (const x of source) {
        if (x === 5) throw boom;
        yield x;
      }
    });
    const sink = collector<number>();
    const error = await rejection(run(naturals, stage, (x: number) => x * 10, sink));
    expectOriginal(error, boom);
    expect(sink.rows).to.deep.equal([10, 20, 30, 40]);
    expect(stage.destroyed).to.equal(true);
    expect(sink.destroyed).to.equal(true);
  });
});

describe('TESTPLAN C21: no ReDoS', () => {
  it('TESTPLAN C21: depends on fast-csv >= 4.3.6 (CVE-2020-26256), declared and installed', () => {
    const pkg = require('../../package.json') as { dependencies: Record<string, string> };
    const declared = pkg.dependencies['@fast-csv/parse'];
    expect(declared, 'the @fast-csv/parse dependency').to.be.a('string');
    expect(atLeast(declared.replace(/^[\^~>=\s]+/, ''), '4.3.6'), `declared ${declared}`).to.equal(true);
    const installed = (require('@fast-csv/parse/package.json') as { version: string }).version;
    expect(atLeast(installed, '4.3.6'), `installed ${installed}`).to.equal(true);
  });

  for (const parser of ['auto', 'fast-csv'] as const) {
    it(`TESTPLAN C21: long runs of whitespace and commas parse in bounded time (parser: ${parser})`, async function () {
      this.timeout(20_000);
      // Inputs of the shape that made fast-csv's empty-row regex backtrack (CVE-2020-26256):
      // runs of spaces/tabs and commas, with and without a non-space character at the end,
      // plus lines of whitespace only (which ignoreEmpty skips).
      const run1 = ' ,\t'.repeat(4000); // 4001 fields of whitespace
      const lines = [
        `${run1}`,
        `${run1}x`,
        `${' '.repeat(200_000)}`,
        `${'\t '.repeat(100_000)}`,
        `${' ,'.repeat(4000)}"q"`,
      ];
      const text = `${lines.join('\n')}\n`;
      const options: CsvParseOptions = { header: false, ragged: 'keep', parser };
      for (const trim of [false, true]) {
        const started = performance.now();
        const parsed = await parseChunks([text], { ...options, trim });
        const elapsed = performance.now() - started;
        expect(parsed.error).to.equal(null);
        // Lines 3 and 4 hold only whitespace: rows of one field to sluice's scanner (issue 11),
        // skipped as empty by fast-csv's parser.
        expect(parsed.lines).to.deep.equal(parser === 'auto' ? [1, 2, 3, 4, 5] : [1, 2, 5]);
        expect((parsed.rows[0] as string[]).length).to.equal(4001);
        expect((parsed.rows[1] as string[]).at(-1)).to.equal(trim ? 'x' : '\tx');
        expect((parsed.rows.at(-1) as string[]).at(-1)).to.equal('q');
        // Leeway: ~40 ms (auto) and ~130 ms (fast-csv) here; a backtracking regex takes
        // minutes on a run of a few dozen. 5 s allows a loaded machine.
        expect(elapsed, `trim: ${trim}`).to.be.below(5000);
      }
    });
  }
});

describe('TESTPLAN C22: parse errors carry no raw user data', () => {
  const SECRET = 'p4ssw0rd-SSN-123-45-6789';
  // Each input fails on a line holding SECRET; the rows before it hold SECRET too.
  const cases: [string, (string | Buffer)[], CsvParseOptions][] = [
    ['an unterminated quote', [`a,b\n${SECRET},1\n2,"${SECRET}\n3,4\n`], {}],
    ['text after a closing quote', [`a,b\n${SECRET},1\n"${SECRET}"${SECRET},2\n`], {}],
    ['a ragged row (too few fields)', [`a,b\n${SECRET},1\n${SECRET}\n`], {}],
    ['a ragged row (too many fields)', [`a,b\n${SECRET},1\n${SECRET},2,${SECRET}\n`], {}],
    ['more fields than maxColumns', [`a,b,c\n${SECRET},${SECRET},${SECRET},${SECRET}\n`], { maxColumns: 3, ragged: 'keep' }],
    ['a row longer than maxRowBytes', [`a\n"${SECRET.repeat(100)}`], { maxRowBytes: 1000 }],
    ['invalid UTF-8', [Buffer.concat([Buffer.from(`a,b\n${SECRET},`), Buffer.from([0xff]), Buffer.from(`${SECRET}\n`)])], { invalidUtf8: 'fail' }],
    ['an empty header name', [`${SECRET},,b\n1,2,3\n`], { rows: 'objects' }],
  ];
  for (const parser of ['auto', 'fast-csv'] as const) {
    for (const [what, chunks, options] of cases) {
      it(`TESTPLAN C22: ${what} (parser: ${parser}): a CsvError naming the line, without the line's data in its message, fields or inspect()`, async () => {
        const parsed = await parseChunks(chunks, { ...options, parser });
        const error = parsed.error;
        expect(error, 'the input must fail').to.be.instanceOf(CsvError);
        expect(error!.line).to.be.a('number');
        expect(error!.message).to.match(/^csv, line \d+(, column \d+)?: /);
        expect(error!.message).to.not.include(SECRET.slice(0, 8));
        expect(JSON.stringify({ ...error })).to.not.include(SECRET.slice(0, 8));
        // Causes too: fast-csv's own message quotes the raw input, so the adapter redacts it.
        expect(inspect(error, { depth: 5 })).to.not.include(SECRET.slice(0, 8));
      });
    }
  }
});

describe('csv.parse fuzz: random bytes in random chunks (fast-check)', () => {
  // Bytes biased towards what CSV parsers care about, mixed with fully random ones.
  const special = [0x22, 0x2c, 0x0a, 0x0d, 0x20, 0x09, 0x61, 0x00, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xff, 0xe2, 0x82];
  const byte = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...special) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) });
  const input = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.array(byte, { maxLength: 300 }).map((b) => Uint8Array.from(b)));
  const options = fc.record({
    parser: fc.constantFrom('auto', 'fast-csv') as fc.Arbitrary<'auto' | 'fast-csv'>,
    rows: fc.constantFrom('arrays', 'objects') as fc.Arbitrary<'arrays' | 'objects'>,
    ragged: fc.constantFrom('fail', 'keep'),
    invalidUtf8: fc.constantFrom('replace', 'fail') as fc.Arbitrary<'replace' | 'fail'>,
    trim: fc.boolean(),
    ignoreEmpty: fc.boolean(),
    maxRowBytes: fc.constantFrom(1_048_576, 64),
    maxColumns: fc.constantFrom(10_000, 4),
  }).map((o) => ({ ...o, ragged: o.rows === 'objects' ? 'fail' : o.ragged }) as CsvParseOptions);

  /** Splits `bytes` at the given cut points (any order, duplicates allowed: empty chunks). */
  const split = (bytes: Uint8Array, cuts: number[]): Buffer[] => {
    if (bytes.length === 0) return [];
    const points = [...cuts.map((c) => c % (bytes.length + 1)), 0, bytes.length].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    // No empty chunks: a Readable whose _read pushes a zero-length Buffer stops reading
    // (Node's documented push('') behaviour), which would hang the helper, not the parser.
    for (let i = 1; i < points.length; i++) if (points[i] > points[i - 1]) chunks.push(Buffer.from(bytes.subarray(points[i - 1], points[i])));
    return chunks;
  };

  it('gives rows or a CsvError with a line, never another error or a hang, for any split (1,000 runs)', async function () {
    this.timeout(60_000);
    // Per input: a hang shows as no settlement within 2 s (a parse here takes well under 10 ms).
    const PER_CASE_MS = 2000;
    const started = performance.now();
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(400), { maxLength: 8 }), options, async (bytes, cuts, opts) => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'hang'>((resolve) => {
          timer = setTimeout(() => resolve('hang'), PER_CASE_MS);
        });
        try {
          const parsed = await Promise.race([parseChunks(split(bytes, cuts), opts), deadline]);
          expect(parsed, 'the parse did not settle').to.not.equal('hang');
          if (parsed === 'hang') return;
          for (const row of parsed.rows) {
            if (opts.rows === 'objects') expect(row).to.be.an('object');
            else expect(row).to.be.an('array').and.satisfy((r: unknown[]) => r.every((f) => typeof f === 'string'));
          }
          if (parsed.error !== null) {
            failed++;
            expect(parsed.error, String(parsed.error?.stack)).to.be.instanceOf(CsvError);
            expect(parsed.error.line).to.be.a('number');
          }
        } finally {
          clearTimeout(timer);
        }
      }),
      { numRuns: 1000 },
    );
    // Both outcomes are exercised (the control that the inputs are not all trivially fine).
    expect(failed).to.be.above(0);
    // Leeway: ~2 s for the whole property here.
    expect(performance.now() - started).to.be.below(30_000);
  });
});
