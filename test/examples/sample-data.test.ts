import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARKING_HEADER, parkingRows, toCsvLine, writeParkingCsv } from '../../examples/sample-data.js';

const STATE = 2;
const ISSUE_DATE = 4;
const MAKE = 7;
const AGENCY = 8;
const EXPIRATION = 12;

/** Minimal RFC 4180 parser (quotes, doubled quotes, CR/LF inside quotes); LF or CRLF record ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe('examples/sample-data', () => {
  let sample: string[][];
  before(() => {
    sample = [...parkingRows({ rows: 100_000, seed: 7 })];
  });

  it('has the 43-column header, trailing spaces included', () => {
    expect(PARKING_HEADER).to.have.length(43);
    expect(PARKING_HEADER[30]).to.equal('Days Parking In Effect    ');
    expect(PARKING_HEADER[STATE]).to.equal('Registration State');
    expect(PARKING_HEADER[EXPIRATION]).to.equal('Vehicle Expiration Date');
  });

  it('is deterministic per seed', () => {
    const a = [...parkingRows({ rows: 2_000, seed: 42 })];
    const b = [...parkingRows({ rows: 2_000, seed: 42 })];
    const c = [...parkingRows({ rows: 2_000, seed: 43 })];
    expect(a).to.deep.equal(b);
    expect(a).to.not.deep.equal(c);
    expect(a.filter((row, i) => row.join() === c[i].join())).to.have.length(0);
    // default seed is stable too, and a shorter run is a prefix of a longer one
    expect([...parkingRows({ rows: 10 })]).to.deep.equal([...parkingRows({ rows: 50, seed: 1 })].slice(0, 10));
  });

  it('yields exactly `rows` rows of 43 strings', () => {
    expect(sample).to.have.length(100_000);
    expect(sample.filter((row) => row.length !== 43)).to.deep.equal([]);
    expect(sample.every((row) => row.every((f) => typeof f === 'string'))).to.equal(true);
    expect([...parkingRows({ rows: 0 })]).to.deep.equal([]);
  });

  it('has ~0.1% NJ + FORD + P rows (between 0.05% and 0.2%)', () => {
    const hits = sample.filter((r) => r[STATE] === 'NJ' && r[MAKE] === 'FORD' && r[AGENCY] === 'P').length;
    expect(hits / sample.length).to.be.within(0.0005, 0.002);
  });

  it('contains every expiration-date form, both issue-date forms and fields that need quoting', () => {
    const exp = sample.map((r) => r[EXPIRATION]);
    expect(exp).to.include('0');
    expect(exp).to.include('88888888');
    expect(exp).to.include('');
    expect(exp.some((e) => /^\d{8}$/.test(e))).to.equal(true);
    expect(exp.some((e) => /^\d{8}\.0$/.test(e) && e !== '88888888.0')).to.equal(true);
    expect(exp.some((e) => /^\d{4}13\d{2}$/.test(e))).to.equal(true); // month 13
    expect(exp.some((e) => /^\d{4}0230$/.test(e))).to.equal(true); // Feb 30
    const issue = sample.map((r) => r[ISSUE_DATE]);
    expect(issue.every((d) => /^\d{4}-\d{2}-\d{2}(T00:00:00\.000)?$/.test(d))).to.equal(true);
    expect(issue.some((d) => d.length === 10)).to.equal(true);
    expect(issue.some((d) => d.endsWith('T00:00:00.000'))).to.equal(true);
    expect(sample.some((r) => r.some((f) => f.includes(',')))).to.equal(true);
    expect(sample.some((r) => r.some((f) => f.includes('"')))).to.equal(true);
    expect(sample.some((r) => r[23] === '')).to.equal(true); // empty house number
    expect(sample.some((r) => r.some((f) => /[\r\n|\0]/.test(f)))).to.equal(false);
  });

  it('toCsvLine quotes only fields containing , " CR or LF', () => {
    expect(toCsvLine(['a', '', 'b c', ' x '])).to.equal('a,,b c, x ');
    expect(toCsvLine(['a,b', 'say "hi"', 'x\ny', 'x\r\ny', '|'])).to.equal('"a,b","say ""hi""","x\ny","x\r\ny",|');
    expect(toCsvLine([])).to.equal('');
  });

  it('writeParkingCsv writes header + rows that parse back identically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sample-'));
    try {
      const path = join(dir, 'parking.csv');
      const progress: number[] = [];
      const result = await writeParkingCsv(path, { rows: 20_000, seed: 7, onProgress: (n) => progress.push(n) });
      expect(result.rows).to.equal(20_000);
      expect(result.bytes).to.equal((await stat(path)).size);
      expect(result.bytes / result.rows).to.be.within(180, 260);
      expect(progress.at(-1)).to.equal(20_000);
      expect(progress.length).to.be.greaterThan(1); // > 1 MB, so at least one intermediate chunk

      const text = await readFile(path, 'utf8');
      expect(text.endsWith('\n')).to.equal(true);
      expect(text.endsWith('\n\n')).to.equal(false);
      expect(text.includes('\r')).to.equal(false);
      expect(text.slice(0, text.indexOf('\n'))).to.equal(PARKING_HEADER.join(','));
      const parsed = parseCsv(text);
      expect(parsed[0]).to.deep.equal([...PARKING_HEADER]);
      expect(parsed.slice(1)).to.deep.equal(sample.slice(0, 20_000));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writeParkingCsv with 0 rows writes just the header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sample-'));
    try {
      const path = join(dir, 'empty.csv');
      const result = await writeParkingCsv(path, { rows: 0 });
      expect(result.rows).to.equal(0);
      expect(await readFile(path, 'utf8')).to.equal(PARKING_HEADER.join(',') + '\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writeParkingCsv rejects when the file cannot be opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-sample-'));
    try {
      let error: unknown;
      try {
        await writeParkingCsv(join(dir, 'missing-dir', 'x.csv'), { rows: 10 });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(Error);
      expect((error as NodeJS.ErrnoException).code).to.equal('ENOENT');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
