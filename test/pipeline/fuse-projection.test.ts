/**
 * Projection fusion (issue 5): `run()`/`pipe()` push a `select` right after a csv source into
 * the source. A differential test runs random inputs and pipelines with the fusion and with
 * it disabled and asserts the same rows (and their lines), summaries, rejects and errors;
 * then one test per condition under which fusion must not happen.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { csv, filter, map, originOf, pipe, run, select, type CsvParseOptions, type Reject, type Summary } from '../../lib/index.js';
import type { CsvParseStage } from '../../lib/csv/parse.js';
import type { SelectStage } from '../../lib/operations/select.js';
import { projectionFusion } from '../../lib/pipeline/fuse-projection.js';
import { bytes, collector } from '../helpers/csv.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';


interface Outcome {
  rows: unknown[];
  lines: (number | undefined)[];
  summary: Omit<Summary, 'ms'> | null;
  rejects: { stage: string; reason: string; row: unknown; index: number; line?: number }[];
  error: Record<string, unknown> | null;
  fused: boolean;
}

function describeError(error: unknown): Record<string, unknown> {
  const e = error as Error & Record<string, unknown>;
  return { type: e.constructor.name, name: e.name, message: e.message, stage: e.stage, row: e.row, line: e.line, source: e.source, cause: (e.cause as Error | undefined)?.message };
}

interface Case {
  text: string;
  cuts: number[];
  options: CsvParseOptions;
  columns: number[] | string[];
  /** A filter after the select (drops rows whose first field is empty), and how to run. */
  filtered: boolean;
  via: 'run' | 'pipe';
  withRejects: boolean;
}

function chunked(text: string, cuts: number[]): Buffer[] {
  const input = Buffer.from(text);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of points) {
    chunks.push(input.subarray(from, cut));
    from = cut;
  }
  chunks.push(input.subarray(from));
  return chunks.filter((c) => c.length > 0);
}

// Cast: the generated chains have a varying number of stages, so they are spread untyped.
const runChain = run as (...args: unknown[]) => ReturnType<typeof run>;
const pipeChain = pipe as (...args: unknown[]) => AsyncIterable<unknown>;

async function outcome(c: Case, fusion: boolean): Promise<Outcome> {
  projectionFusion.enabled = fusion;
  const rejects: Outcome['rejects'] = [];
  const onReject = (r: Reject) => void rejects.push({ stage: r.stage, reason: r.reason, row: r.row, index: r.index, line: r.origin?.line });
  let source: CsvParseStage<unknown>;
  let selection: SelectStage;
  const stages = () => {
    source = csv.read(bytes(chunked(c.text, c.cuts)), c.options) as CsvParseStage<unknown>;
    selection = select(c.columns as number[]) as unknown as SelectStage;
    const rest = c.filtered ? [filter((row: unknown) => Object.values(row as object)[0] !== '')] : [];
    return [source, selection, ...rest] as const;
  };
  const options = c.withRejects ? { rejects: onReject } : {};
  const rows: unknown[] = [];
  let summary: Outcome['summary'] = null;
  let error: Outcome['error'] = null;
  try {
    if (c.via === 'run') {
      const sink = collector();
      const { ms, ...counts } = await runChain(...stages(), sink, options);
      expect(ms).to.be.a('number');
      summary = counts;
      rows.push(...sink.rows);
    } else {
      for await (const row of pipeChain(...stages(), options)) rows.push(row);
    }
  } catch (caught) {
    error = describeError(caught);
  } finally {
    projectionFusion.enabled = true;
  }
  return { rows, lines: rows.map((r) => originOf(r)?.line), summary, rejects, error, fused: selection!.fusedInto !== null };
}

const names = ['a', 'b', 'c', 'd', 'e'];
const field = fc.oneof(fc.constantFrom('', 'x', 'NJ', ' y ', '1'), fc.constantFrom('"q,1"', '"l\nine"', '"a""b"'));
const row = (width: number) => fc.array(field, { minLength: width, maxLength: width }).map((f) => f.join(','));

const cases: fc.Arbitrary<Case> = fc
  .record({
    width: fc.integer({ min: 1, max: 5 }),
    rows: fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }), { maxLength: 8 }),
    header: fc.constantFrom<'line' | 'none' | 'given'>('line', 'none', 'given'),
    objects: fc.boolean(),
    ragged: fc.constantFrom<'fail' | 'reject' | 'keep'>('fail', 'fail', 'fail', 'reject', 'keep'),
    trim: fc.boolean(),
    emptyLines: fc.boolean(),
    crlf: fc.boolean(),
    picks: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 6 }),
    cuts: fc.array(fc.nat(400), { maxLength: 6 }),
    filtered: fc.boolean(),
    via: fc.constantFrom<'run' | 'pipe'>('run', 'pipe'),
    withRejects: fc.boolean(),
    seed: fc.array(row(7), { minLength: 9, maxLength: 9 }),
  })
  .map((g) => {
    const objects = g.objects && g.header !== 'none';
    const header = g.header === 'line' ? true : g.header === 'none' ? false : names.slice(0, g.width);
    // Row i has width + delta fields (delta ≠ 0: a ragged row; width 0: an empty line).
    const body = g.rows.map((delta, i) => g.seed[i].split(',').slice(0, Math.max(0, g.width + delta)).join(','));
    const lines = [...(g.header === 'line' ? [names.slice(0, g.width).join(',')] : []), ...body];
    if (g.emptyLines && lines.length > 1) lines.splice(1, 0, '');
    const eol = g.crlf ? '\r\n' : '\n';
    const columns = objects ? g.picks.map((p) => (p < names.length ? names[p] : 'zz')) : g.picks;
    return {
      text: lines.join(eol) + (g.cuts.length % 2 ? eol : ''),
      cuts: g.cuts,
      options: { header, rows: objects ? 'objects' : 'arrays', ragged: objects && g.ragged === 'keep' ? 'fail' : g.ragged, trim: g.trim } as CsvParseOptions,
      columns,
      filtered: g.filtered,
      via: g.via,
      withRejects: g.withRejects,
    } satisfies Case;
  });

describe('projection fusion: select right after a csv source (issue 5)', function () {
  this.timeout(scaledTimeout);
  it('gives the same rows, lines, summaries, rejects and errors as without fusion (differential, random inputs and pipelines)', async () => {
    let fusedRuns = 0;
    let fusedErrors = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const fused = await outcome(c, true);
        const plain = await outcome(c, false);
        expect(plain.fused).to.equal(false);
        expect(fused.fused).to.equal(c.options.ragged === 'fail');
        expect({ ...fused, fused: null }).to.deep.equal({ ...plain, fused: null });
        if (fused.fused) fusedRuns++;
        if (fused.fused && fused.error) fusedErrors++;
      }),
      { numRuns: Math.round(600 * scale) },
    );
    // The property must have exercised fusion, including its error paths.
    expect(fusedRuns).to.be.greaterThan(100);
    expect(fusedErrors).to.be.greaterThan(10);
  });

  it('shows the decision: the select records its source, the source its columns; rows as with the columns option', async () => {
    const text = 'h0,h1,h2,h3\n1,2,3,4\n5,6,7,8\n';
    const source = csv.read(bytes([text]));
    const picked = select([3, 1]) as unknown as SelectStage;
    const sink = collector();
    const summary = await run(source, picked, sink);
    expect(picked.fusedInto).to.equal('csv.read(stream)');
    expect(picked.stats.in).to.equal(0);
    expect((source as CsvParseStage<unknown>).columns).to.deep.equal([3, 1]);
    expect(sink.rows).to.deep.equal([['4', '2'], ['8', '6']]);
    expect(summary).to.include({ read: 2, written: 2, filtered: 0, rejected: 0 });
  });

  it('by names, for object rows', async () => {
    const source = csv.read(bytes(['a,b,c\n1,2,3\n']), { rows: 'objects' });
    const picked = select(['c', 'a']) as unknown as SelectStage;
    const sink = collector();
    await run(source, picked, sink);
    expect(picked.fusedInto).to.equal('csv.read(stream)');
    expect(sink.rows).to.deep.equal([{ c: '3', a: '1' }]);
    expect(Object.keys(sink.rows[0] as object)).to.deep.equal(['c', 'a']);
  });

  it('a column the rows lack: the select error of the unfused pipeline, also when the file has no data rows', async () => {
    const fused = await outcome({ text: 'a,b\n1,2\n', cuts: [], options: {}, columns: [0, 5], filtered: false, via: 'run', withRejects: false }, true);
    expect(fused.fused).to.equal(true);
    expect(fused.error).to.include({ type: 'RowError', message: 'select(0,5) failed on row 1 (stream, line 2): no column 5: the row has 2 column(s)' });
    const empty = await outcome({ text: 'a,b\n', cuts: [], options: {}, columns: [0, 5], filtered: false, via: 'run', withRejects: false }, true);
    expect(empty).to.include({ fused: true, error: null });
    expect(empty.summary).to.deep.equal({ read: 0, written: 0, filtered: 0, rejected: 0, stoppedEarly: false });
  });

  describe('is not done when it could change the result', () => {
    const attempt = async (source: Readable, picked: unknown, options: object = {}) => {
      await run(source as never, picked as never, collector(), options).catch(() => {});
      return (picked as SelectStage).fusedInto;
    };
    const text = () => bytes(['a,b,c\n1,2,3\n']);

    it('the source already has columns', async () => {
      expect(await attempt(csv.read(text(), { columns: [0, 1] }), select([1]))).to.equal(null);
    });
    it("ragged: 'reject' (a rejected row would carry only the selected fields) or 'keep'", async () => {
      expect(await attempt(csv.read(text(), { ragged: 'reject' }), select([1]), { rejects: () => {} })).to.equal(null);
      expect(await attempt(csv.read(text(), { ragged: 'keep' }), select([1]))).to.equal(null);
    });
    it("the select's onError is not 'fail'", async () => {
      expect(await attempt(csv.read(text()), select([1], { onError: 'reject' }), { rejects: () => {} })).to.equal(null);
      expect(await attempt(csv.read(text()), select([1], { onError: { replaceWith: [] } }))).to.equal(null);
    });
    it("the source uses fast-csv's parser", async () => {
      expect(await attempt(csv.read(text(), { parser: 'fast-csv' }), select([1]))).to.equal(null);
    });
    it('the source has read bytes already', async () => {
      const source = csv.read(text()) as CsvParseStage<unknown>;
      await new Promise((resolve) => source.once('readable', resolve));
      expect(source.bytesIn).to.be.greaterThan(0);
      expect(await attempt(source, select([1]))).to.equal(null);
    });
    it('the select is not right after the source, or does not match the row shape', async () => {
      const later = select([1]);
      await run(csv.read(text()), map((r: string[]) => r), later, collector());
      expect((later as unknown as SelectStage).fusedInto).to.equal(null);
      expect(await attempt(csv.read(text(), { rows: 'objects' }), select([1]))).to.equal(null);
      expect(await attempt(csv.read(text()), select(['a']))).to.equal(null);
    });
    it('the source is not a csv stage', async () => {
      expect(await attempt(Readable.from([['1', '2']]), select([1]))).to.equal(null);
    });
    it('the internal switch is off', async () => {
      projectionFusion.enabled = false;
      try {
        expect(await attempt(csv.read(text()), select([1]))).to.equal(null);
      } finally {
        projectionFusion.enabled = true;
      }
    });
  });
});
