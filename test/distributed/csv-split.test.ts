import { expect } from 'chai';
import fc from 'fast-check';
import { CsvError, csv, originOf, run, type CsvSplit } from '../../lib/index.js';
import { tempDir, type TempDir } from '../helpers/files.js';
import { collector } from '../helpers/csv.js';

/** Every row of a stage with its origin line, in order. */
async function linedRows(source: Parameters<typeof run>[0]): Promise<[number, unknown][]> {
  const sink = collector<unknown>();
  await run(source, sink);
  return sink.rows.map((row) => [originOf(row)!.line, row]);
}

async function splitRows(file: string, splits: CsvSplit[], options: Parameters<typeof csv.split>[1] = {}): Promise<[number, unknown][]> {
  const source = csv.split(file, options);
  const all: [number, unknown][] = [];
  for (const split of splits) all.push(...(await linedRows(source.open(split))));
  return all;
}

const quoteField = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);

describe('csv.split()', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await tempDir('sluice-split-test-');
  });
  after(() => tmp.remove());

  describe('behaviour', () => {
    it('cuts after the first line break at or past each offset, ending with the line that crosses the end', async () => {
      const file = await tmp.write('plain.csv', 'h1,h2\naa,1\nbb,2\ncc,3\ndd,4\n');
      // 26 bytes; targets 13 (inside "bb,2\n": cut after its \n at 16) for n = 2.
      const splits = await csv.split(file).plan(2);
      expect(splits.map(({ start, end, line, index, count }) => ({ start, end, line, index, count }))).to.deep.equal([
        { start: 0, end: 16, line: 1, index: 0, count: 2 },
        { start: 16, end: 26, line: 4, index: 1, count: 2 },
      ]);
      expect(splits[1].names).to.deep.equal(['h1', 'h2']);
      expect(splits[1].id).to.equal(`csv:${file}#16-26`);
      expect(await splitRows(file, splits)).to.deep.equal([[2, ['aa', '1']], [3, ['bb', '2']], [4, ['cc', '3']], [5, ['dd', '4']]]);
    });

    it('descriptors are plain JSON and the same for every plan of the same file', async () => {
      const file = await tmp.write('same.csv', 'a,b\n' + Array.from({ length: 50 }, (_, i) => `${i},x\n`).join(''));
      const first = await csv.split(file).plan(7);
      const again = await csv.split(file).plan(7);
      expect(JSON.parse(JSON.stringify(first))).to.deep.equal(again);
      expect(first).to.have.length(7);
    });

    it('gives fewer splits than asked when the file has fewer lines than cuts', async () => {
      const file = await tmp.write('short.csv', 'a\n1\n');
      const splits = await csv.split(file).plan(10);
      expect(splits.length).to.be.at.most(4);
      expect(await splitRows(file, splits)).to.deep.equal([[2, ['1']]]);
    });

    it('object rows: every split keys rows by the header the plan read', async () => {
      const file = await tmp.write('objects.csv', '"Summons Number",state\n1,NY\n2,NJ\n3,CT\n4,PA\n');
      const splits = await csv.split(file, { rows: 'objects' }).plan(3);
      const rows = await splitRows(file, splits, { rows: 'objects' });
      expect(rows.map(([, row]) => row)).to.deep.equal([1, 2, 3, 4].map((n, i) => ({ 'Summons Number': String(n), state: ['NY', 'NJ', 'CT', 'PA'][i] })));
    });

    it('errors of a later split name the real file line', async () => {
      const file = await tmp.write('ragged.csv', 'a,b\n1,2\n3,4\n5,6\n7\n9,10\n');
      const source = csv.split(file);
      const splits = await source.plan(3);
      const last = splits[splits.length - 1];
      expect(last.line).to.be.greaterThan(1);
      const error = await run(...([source.open(last), collector()] as const)).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(CsvError);
      expect((error as CsvError).line).to.equal(5);
      expect((error as CsvError).source).to.equal(file);
    });
  });

  describe('quoted line breaks', () => {
    it('refuses a plan whose cut falls inside a quoted field, naming the cut and the line', async () => {
      const file = await tmp.write('quoted.csv', 'a,b\n1,"first\nsecond\nthird\nfourth"\n2,x\n');
      const error = await csv.split(file).plan(2).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(CsvError);
      expect((error as CsvError).message).to.equal(
        `${file}, line 3: csv.split: the cut before split 2 of 2 (byte 19) falls on a line break inside a quoted field, ` +
          "so a byte-range split there would cut a row in two; pass quotedLineBreaks: 'follow' to cut at the next row instead",
      );
    });

    it('accepts quoted line breaks when the scan proves every cut is outside quotes', async () => {
      const file = await tmp.write('safe.csv', 'a,b\n1,"x\ny"\n' + 'p,q\n'.repeat(20));
      const splits = await csv.split(file).plan(2);
      expect(splits).to.have.length(2);
      expect((await splitRows(file, splits)).length).to.equal(21);
    });

    it("quotedLineBreaks: 'follow' cuts at the next row, with its real line", async () => {
      const file = await tmp.write('follow.csv', 'a,b\n1,"first\nsecond\nthird\nfourth"\n2,x\n');
      const splits = await csv.split(file, { quotedLineBreaks: 'follow' }).plan(2);
      expect(splits[1].line).to.equal(6);
      expect(await splitRows(file, splits)).to.deep.equal([[2, ['1', 'first\nsecond\nthird\nfourth']], [6, ['2', 'x']]]);
    });
  });

  describe('options', () => {
    it('invalid values throw naming the option', async () => {
      expect(() => csv.split('')).to.throw(TypeError, 'csv.split(): expected `file` to be a path, got `` (string)');
      expect(() => csv.split('x.csv', { quotedLineBreaks: 'maybe' as never })).to.throw(TypeError, "csv.split(): expected `quotedLineBreaks` to be one of 'refuse', 'follow', got `maybe` (string)");
      expect(() => csv.split('x.csv', { delimiter: '€' })).to.throw(TypeError, 'csv.split(): expected `delimiter` to be a single ASCII character (byte-range splits scan bytes), got `€` (string)');
      expect(() => csv.split('x.csv', { encoding: 'utf16le' })).to.throw(TypeError, "csv.split(): expected `encoding` to be 'utf8', 'latin1' or 'ascii' (byte-range splits need an ASCII-compatible encoding), got `utf16le` (string)");
      const error = await csv.split('x.csv').plan(0).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError).with.property('message', 'csv.split().plan(): expected `n` to be an integer from 1 and up, got `0` (number)');
      expect(() => csv.split('x.csv').open({ kind: 'postgres' } as never)).to.throw(TypeError, 'csv.split().open(): expected `split` to be a split of x.csv planned by csv.split, got an object');
    });
  });

  describe('property: the union of all splits is the whole file, exactly once', () => {
    const field = fc.stringMatching(/^[a-c ,"\n\r]{0,6}$/).filter((f) => !/^[ ]/.test(f) || !f.includes('"'));
    it('for random files (quoted fields, CRLF, no final newline) and random n', async () => {
      let case_ = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(field, { minLength: 2, maxLength: 2 }), { minLength: 0, maxLength: 25 }),
          fc.constantFrom('\n', '\r\n'),
          fc.boolean(),
          fc.integer({ min: 1, max: 12 }),
          async (rows, eol, finalNewline, n) => {
            const lines = [['h1', 'h2'], ...rows].map((r) => r.map((f) => (f === '' ? '""' : quoteField(f))).join(','));
            const file = await tmp.write(`p${case_++}.csv`, lines.join(eol) + (finalNewline ? eol : ''));
            const whole = await linedRows(csv.read(file));
            const follow = await csv.split(file, { quotedLineBreaks: 'follow' }).plan(n);
            expect(await splitRows(file, follow)).to.deep.equal(whole);
            const refused = await csv.split(file).plan(n).then((splits) => splits, (e: unknown) => e as Error);
            if (refused instanceof Error) {
              expect(refused).to.be.instanceOf(CsvError);
              expect(refused.message).to.contain('inside a quoted field');
            } else expect(await splitRows(file, refused)).to.deep.equal(whole);
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});
