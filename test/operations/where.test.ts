/**
 * `where(conditions)`: a filter written as data. Unfused it tests each row; right after a csv
 * source (or a select fused into one) the source drops rows it can tell fail from their
 * bytes. A differential test runs random inputs with and without that and asserts the same
 * rows (and lines), summaries, rejects and errors, and that the source did drop rows.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { csv, filter, originOf, run, select, take, where, type CsvParseOptions, type Reject, type Summary } from '../../lib/index.js';
import type { WhereStage } from '../../lib/operations/where.js';
import { whereFusion } from '../../lib/pipeline/fuse-where.js';
import { bytes, collector, textSink } from '../helpers/csv.js';
import { collect, counts, destroyMidStream, expectAccounted, expectTypeErrors, measureHeld, range, runAccounted } from '../helpers/streams.js';
import { propertyScale as scale, scaledTimeout } from '../helpers/property-scale.js';


describe('where()', function () {
  this.timeout(scaledTimeout);
  describe('behaviour', () => {
    it('keeps array rows whose columns hold the values (all conditions), counting the rest as filtered', async () => {
      const rows = [['NJ', 'FORD', 'P'], ['NY', 'FORD', 'P'], ['NJ', 'FORD', 'T'], ['NJ', 'FORD', 'P', 'extra'], ['NJ']];
      const stage = where({ 0: 'NJ', 2: 'P' });
      const sink = collect<string[]>();
      const summary = await runAccounted(rows, stage, sink);
      expect(sink.rows).to.deep.equal([['NJ', 'FORD', 'P'], ['NJ', 'FORD', 'P', 'extra']]);
      expect(stage.stage).to.equal('where(0, 2)');
      expect(counts(summary)).to.deep.equal({ read: 5, written: 2, filtered: 3, rejected: 0, stoppedEarly: false });
      expectAccounted(summary);
    });

    it('an array of values keeps a row holding any one; object rows by name; compared as includes (types matter, NaN matches)', async () => {
      const rows = [{ state: 'NJ', n: 1 }, { state: 'NY', n: 2 }, { state: 'CT', n: NaN }, { state: 'NJ', n: '1' }];
      const sink = collect<{ state: string; n: unknown }>();
      await runAccounted(rows, where({ state: ['NJ', 'CT'], n: [1, NaN] }), sink);
      expect(sink.rows).to.deep.equal([{ state: 'NJ', n: 1 }, { state: 'CT', n: NaN }]);
    });

    it('rejects conditions it cannot test with TypeErrors naming the condition', () => {
      expectTypeErrors([
        [() => where({}), 'where(): expected `conditions` to be an object of column → value(s), with at least one column, got {}'],
        [() => where(null as never), 'where(): expected `conditions` to be an object of column → value(s), with at least one column, got null'],
        [() => where({ 0: [] }), 'where(): expected `conditions["0"]` to be a value or a non-empty array of values, got []'],
        [() => where({ a: { b: 1 } as never }), 'where(): expected `conditions["a"]` to hold strings, numbers, booleans or null, got {"b":1}'],
        [() => where({ a: (() => 1) as never }), 'where(): expected `conditions["a"]` to hold strings, numbers, booleans or null, got a function'],
      ]);
    });
  });

  describe('backpressure and early destroy', () => {
    it('holds no dropped row: dropping everything drains the source, nothing reaches the stalled sink', async () => {
      const held = await measureHeld(where({ 0: 'never' }, { highWaterMark: 1 }), { sourceHighWaterMark: 1, sinkHighWaterMark: 1, total: 500, row: (i) => [String(i)] });
      expect(held.pulled).to.equal(500);
      expect(held.inSink).to.equal(0);
    });

    it('passes rows it keeps at the pace of a stalled sink (bounded buffering)', async () => {
      const held = await measureHeld(where({ 0: ['x'] }, { highWaterMark: 1 }), { sourceHighWaterMark: 1, sinkHighWaterMark: 1, total: 500, row: () => ['x'] });
      expect(held.pulled).to.be.below(20);
    });

    it('destroyed mid-stream: closes once, passes nothing more', async () => {
      const { events, inSink } = await destroyMidStream(where({ 0: 'x' }), () => ['x']);
      expect(events.close).to.equal(1);
      expect(inSink).to.be.below(20);
    });
  });

  describe('told to a csv source', () => {
    it('the source drops failing rows before making them: the where sees only the rest; rows, lines and summary as a filter gives', async () => {
      const lines = Array.from({ length: 3000 }, (_, i) => `${i},${i % 10 === 0 ? 'NJ' : i % 10 === 1 ? '"NJ"' : 'NY'},${i % 3 === 0 ? 'FORD' : 'é'}`);
      const text = `id,state,make\n${lines.join('\n')}\n`;
      const cuts = [60, 20_000, 40_000];
      const chunks = [text.slice(0, cuts[0]), text.slice(cuts[0], cuts[1]), text.slice(cuts[1], cuts[2]), text.slice(cuts[2])];
      const stage = where({ 1: 'NJ', 2: ['FORD'] }) as unknown as WhereStage;
      const sink = collector<string[]>();
      const summary = await run(csv.read(bytes(chunks)), select([0, 1, 2]), stage, sink);
      const reference = collector<string[]>();
      const expected = await run(csv.read(bytes(chunks)), select([0, 1, 2]), filter(([, state, make]: string[]) => state === 'NJ' && make === 'FORD'), reference);
      expect(sink.rows).to.deep.equal(reference.rows);
      expect(sink.rows.map((row) => originOf(row)?.line)).to.deep.equal(reference.rows.map((row) => originOf(row)?.line));
      expect(sink.rows.length).to.equal(200); // i % 30 ∈ {0, 21}: unquoted NJ and quoted "NJ", with FORD
      expect({ ...summary, ms: 0 }).to.deep.equal({ ...expected, ms: 0 });
      expect(stage.toldTo).to.equal('csv.read(stream)');
      // Most rows never reached the where (the first chunk's are read before the reader knows the width).
      expect(stage.stats.in).to.be.below(1000);
      expect(stage.stats.in).to.be.at.least(200);
    });

    it("object rows with the columns option: conditions by name, rows as a filter gives", async () => {
      const text = `id,state,make\n${Array.from({ length: 4000 }, (_, i) => `${i},${i % 4 === 0 ? 'NJ' : 'NY'},FORD`).join('\n')}\n`;
      const chunks = [text.slice(0, 50), text.slice(50, 30_000), text.slice(30_000)];
      const options = { rows: 'objects', columns: ['make', 'id', 'state'] } as const;
      const stage = where({ state: 'NJ' }) as unknown as WhereStage;
      const sink = collector<Record<string, string>>();
      const summary = await run(csv.read(bytes(chunks), options), stage, sink);
      const reference = collector<Record<string, string>>();
      await run(csv.read(bytes(chunks), options), filter((row: Record<string, string>) => row.state === 'NJ'), reference);
      expect(sink.rows).to.deep.equal(reference.rows);
      expect(sink.rows.length).to.equal(1000);
      expect(summary).to.include({ read: 4000, written: 1000, filtered: 3000 });
      expect(stage.stats.in).to.be.below(2000);
    });

    it('object rows keyed by the header (no projection): the source drops them too, rows as a filter gives', async () => {
      const text = `id,state,make\n${Array.from({ length: 4000 }, (_, i) => `${i},${i % 4 === 0 ? 'NJ' : 'NY'},FORD`).join('\n')}\n`;
      const chunks = [text.slice(0, 50), text.slice(50, 30_000), text.slice(30_000)];
      const stage = where({ state: 'NJ', make: ['FORD', 'BMW'] }) as unknown as WhereStage;
      const sink = collector<Record<string, string>>();
      const summary = await run(csv.read(bytes(chunks), { rows: 'objects' }), stage, sink);
      const reference = collector<Record<string, string>>();
      await run(csv.read(bytes(chunks), { rows: 'objects' }), filter((row: Record<string, string>) => row.state === 'NJ'), reference);
      expect(sink.rows).to.deep.equal(reference.rows);
      expect(sink.rows.length).to.equal(1000);
      expect(summary).to.include({ read: 4000, written: 1000, filtered: 3000 });
      expect(stage.stats.in).to.be.below(2000);
    });

    it("whole rows (no projection): the source drops them too; the output is the filter's, byte for byte", async () => {
      const lines = Array.from({ length: 3000 }, (_, i) => `${i},${i % 5 === 0 ? 'NJ' : 'NY'}, x ,"q""${i}",é`);
      const text = `id,state,pad,quoted,last\n${lines.join('\n')}\n`;
      const chunks = [text.slice(0, 64), text.slice(64, 50_000), text.slice(50_000)];
      const stage = where({ 1: 'NJ' }) as unknown as WhereStage;
      const out = textSink();
      const summary = await run(csv.read(bytes(chunks)), stage, csv.format(), out);
      const reference = textSink();
      await run(csv.read(bytes(chunks)), filter((row: string[]) => row[1] === 'NJ'), csv.format(), reference);
      expect(out.text()).to.equal(reference.text());
      expect(out.text().trimEnd().split('\n').length).to.equal(600);
      expect(summary).to.include({ read: 3000, written: 600, filtered: 2400 });
      expect(stage.stats.in).to.be.below(1000);
    });

    it('a take after it stops the source with the same rows as unfused', async () => {
      const text = `a,b\n${Array.from({ length: 5000 }, (_, i) => `${i},${i % 7 === 0 ? 'y' : 'n'}`).join('\n')}\n`;
      const chunks = [text.slice(0, 100), text.slice(100, 30_000), text.slice(30_000)];
      const sink = collector<string[]>();
      const summary = await run(csv.read(bytes(chunks), { columns: [0, 1] }), where({ 1: 'y' }), take(300), sink);
      expect(sink.rows.map(([i]) => Number(i))).to.deep.equal(range(300, 0).map((i) => i * 7));
      expect(summary.stoppedEarly).to.equal(true);
    });
  });

  it('gives the same rows, lines, summaries, rejects and errors told to the source as not (differential, random inputs)', async () => {
    let dropping = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const told = await outcome(c, true);
        const plain = await outcome(c, false);
        expect(plain.droppedAtSource).to.equal(0);
        expect({ ...told, droppedAtSource: 0 }).to.deep.equal({ ...plain, droppedAtSource: 0 });
        if (told.droppedAtSource > 0) dropping++;
      }),
      { numRuns: Math.round(300 * scale) },
    );
    // The property must have exercised the source's drops.
    expect(dropping).to.be.greaterThan(25);
  });
});

interface Case {
  /** The input cut at random bytes (inside characters too). */
  chunks: Buffer[];
  options: CsvParseOptions;
  /** A select after the source, or none. */
  columns: number[] | null;
  conditions: Record<number | string, string | string[]>;
}

interface Outcome {
  rows: unknown[];
  lines: (number | undefined)[];
  summary: Omit<Summary, 'ms'> | null;
  rejects: { stage: string; reason: string; index: number; line?: number }[];
  error: string | null;
  /** Rows the source read that never reached the where stage. */
  droppedAtSource: number;
}

async function outcome(c: Case, tell: boolean): Promise<Outcome> {
  whereFusion.enabled = tell;
  const rejects: Outcome['rejects'] = [];
  const stage = where(c.conditions) as unknown as WhereStage;
  const sink = collector();
  try {
    const source = csv.read(bytes(c.chunks), c.options);
    const rejectsOption = { rejects: (r: Reject) => void rejects.push({ stage: r.stage, reason: r.reason, index: r.index, line: r.origin?.line }) };
    const { ms: _, ...summary } = c.columns === null ? await run(source, stage, sink, rejectsOption) : await run(source, select(c.columns), stage, sink, rejectsOption);
    const droppedAtSource = summary.read - summary.rejected - stage.stats.in;
    return { rows: sink.rows, lines: sink.rows.map((r) => originOf(r)?.line), summary, rejects, error: null, droppedAtSource };
  } catch (error) {
    return { rows: sink.rows, lines: [], summary: null, rejects, error: String(error), droppedAtSource: 0 };
  } finally {
    whereFusion.enabled = true;
  }
}

// Fields that bytes decide (plain, multi-byte, empty) and that they cannot (quoted ones).
const field = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('NJ', 'NJ', 'NY', 'FORD', 'é', '', ' NJ', '\uFFFD') },
  { weight: 1, arbitrary: fc.constantFrom('"NJ"', '"a,b"', '"l\nine"') },
);
const value = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('NJ', 'FORD', 'é', '') },
  { weight: 1, arbitrary: fc.constantFrom('a,b', '\uFFFD', 'NJ ', '"NJ"', 'l\nine') },
);

const cases: fc.Arbitrary<Case> = fc
  .record({
    width: fc.integer({ min: 2, max: 5 }),
    rows: fc.array(fc.tuple(fc.array(field, { minLength: 5, maxLength: 5 }), fc.oneof({ weight: 60, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) })), { minLength: 20, maxLength: 120 }),
    header: fc.boolean(),
    ragged: fc.constantFrom<'fail' | 'reject'>('fail', 'fail', 'reject'),
    // The projection: a select fused into the source (only with ragged 'fail'), its `columns` option, none, or object rows (whole, by the header's names).
    projection: fc.constantFrom<'select' | 'columns' | 'none' | 'objects'>('select', 'columns', 'none', 'objects'),
    crlf: fc.boolean(),
    picks: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
    // Mostly columns of the selected rows (others are left to the where stage).
    conditions: fc.array(fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 1, arbitrary: fc.constant(9) }), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 }))), { minLength: 1, maxLength: 3 }),
    cuts: fc.array(fc.nat(4000), { minLength: 1, maxLength: 8 }),
    // A stray quote (`x"y`) in one row sends the rest of the input to the JS scanner.
    strayQuoteAt: fc.option(fc.nat(150), { freq: 6 }),
  })
  .map((g) => {
    const eol = g.crlf ? '\r\n' : '\n';
    const body = g.rows.map(([fields, delta], i) => (i === g.strayQuoteAt ? ['x"y', ...fields] : fields).slice(0, Math.max(1, g.width + delta)).join(','));
    const objects = g.projection === 'objects';
    const names = ['a', 'b', 'c', 'd', 'e'];
    const text = [...(g.header || objects ? [names.slice(0, g.width).join(',')] : []), ...body].join(eol) + eol;
    const input = Buffer.from(text);
    const points = [...new Set(g.cuts.map((cut) => cut % input.length))].sort((a, b) => a - b);
    const chunks = [0, ...points].map((from, i) => input.subarray(from, [...points, input.length][i]));
    return {
      chunks: chunks.filter((chunk) => chunk.length > 0),
      options: objects
        ? ({ rows: 'objects', ragged: g.ragged } as CsvParseOptions)
        : ({ header: g.header, ragged: g.ragged, ...(g.projection === 'columns' ? { columns: g.picks.map((p) => p % g.width) } : {}) } as CsvParseOptions),
      columns: g.projection === 'select' ? g.picks.map((p) => p % g.width) : null,
      conditions: Object.fromEntries(g.conditions.map(([column, values]) => {
        if (objects) return [column === 9 ? 'zz' : names[column % g.width], values];
        return [column === 9 ? column : column % (g.projection === 'none' ? g.width : g.picks.length), values];
      })),
    };
  });
