import { expect } from 'chai';
import { csv, run } from '../../lib/index.js';
import { safeCell } from '../../lib/csv/spreadsheet-safe.js';
import { textSink, thrown } from '../helpers/csv.js';

async function format(rows: readonly (readonly unknown[] | Record<string, unknown>)[], options: Parameters<typeof csv.format>[0]): Promise<string> {
  const sink = textSink();
  await run(rows, csv.format(options), sink);
  return sink.text();
}

describe('csv.format({ spreadsheetSafe }) — TESTPLAN C20 formula injection', () => {
  it('prefixes cells starting with = + - @ tab or CR, also after leading spaces', () => {
    for (const risky of ['=1+1', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx', '  =HYPERLINK("x")', ' @x', '-', '+', '=']) {
      expect(safeCell(risky), JSON.stringify(risky)).to.equal(`'${risky}`);
    }
  });

  it('leaves numbers, plain text and non-strings alone', () => {
    for (const plain of ['-5', '+5', '-1.5', '+1.5e3', '-.5', ' -5 ', 'abc', '', ' x', 'a=b', "'=x"]) {
      expect(safeCell(plain), JSON.stringify(plain)).to.equal(plain);
    }
    expect(safeCell(-5)).to.equal(-5);
    expect(safeCell(null)).to.equal(null);
  });

  for (const formatter of ['auto', 'fast-csv'] as const) {
    it(`writes the prefixed cells with either formatter (${formatter}), quoting as usual`, async () => {
      const text = await format(
        [['=1+1', '-5', 'NJ'], ['@x', 'a,b', '+cmd|calc']],
        { headers: ['=formula', 'amount', 'state'], spreadsheetSafe: true, formatter },
      );
      // fast-csv quotes a field containing `|`; both formatters do.
      expect(text).to.equal(`'=formula,amount,state\n'=1+1,-5,NJ\n'@x,"a,b","'+cmd|calc"\n`);
    });
  }

  it('object rows: values are prefixed, the input row is not changed', async () => {
    const row = { a: '=2*3', b: '-7' };
    expect(await format([row], { spreadsheetSafe: true })).to.equal("a,b\n'=2*3,-7\n");
    expect(row).to.deep.equal({ a: '=2*3', b: '-7' });
  });

  for (const formatter of ['auto', 'fast-csv'] as const) {
    it(`object rows: header names taken from their keys are cells too, and made safe (${formatter})`, async () => {
      // Keys of rows read from an untrusted file become the header line.
      const rows = [{ '=cmd|x': '=1+2', '@id': '-5' }, { '@id': '7', '=cmd|x': '+cmd' }, { '=cmd|x': 'z' }];
      const text = await format(rows, { spreadsheetSafe: true, formatter });
      expect(text).to.equal(`"'=cmd|x",'@id\n'=1+2,-5\n'+cmd,7\nz,\n`);
      // Without the option the same rows come out in the same order, names as they are.
      expect(await format(rows, { formatter })).to.equal(`"=cmd|x",@id\n=1+2,-5\n+cmd,7\nz,\n`);
      expect(await format(rows, { spreadsheetSafe: true, headers: false, formatter })).to.equal(`'=1+2,-5\n'+cmd,7\nz,\n`);
    });
  }

  it('is off by default: the same rows are written as they are', async () => {
    expect(await format([['=1+1', '@x']], {})).to.equal('=1+1,@x\n');
  });

  it('csv.write takes the option too', async () => {
    const sink = textSink();
    await run([['=x']], csv.write(sink, { spreadsheetSafe: true }));
    expect(sink.text()).to.equal("'=x\n");
  });

  it('rejects a non-boolean with a TypeError', () => {
    const error = thrown(() => csv.format({ spreadsheetSafe: 'yes' as unknown as boolean }));
    expect(error).to.be.instanceOf(TypeError);
    expect(error.message).to.equal('csv.format(): expected `spreadsheetSafe` to be a boolean, got `yes` (string)');
  });
});
