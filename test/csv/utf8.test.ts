import { expect } from 'chai';
import { checkUtf8 } from '../../lib/csv/utf8.js';
import { thrown, parseChunks } from '../helpers/csv.js';
import { csv } from '../../lib/index.js';

/** Every split of `bytes` into two chunks. */
const splits = (bytes: Buffer) => Array.from({ length: bytes.length + 1 }, (_, i) => [bytes.subarray(0, i), bytes.subarray(i)]);

describe('csv.parse({ invalidUtf8 }) — TESTPLAN C19 encoding', () => {
  describe('checkUtf8()', () => {
    it('accepts valid text and reports a sequence cut off at the end as incomplete', () => {
      expect(checkUtf8(Buffer.from('añ€😀'))).to.deep.equal({ invalid: -1, incomplete: 10 });
      const cut = Buffer.from('a😀').subarray(0, 3);
      expect(checkUtf8(cut)).to.deep.equal({ invalid: -1, incomplete: 1 });
    });

    it('finds the first byte of an invalid sequence', () => {
      const cases: [number[], number][] = [
        [[0x61, 0xff, 0x62], 1], // never valid
        [[0x61, 0xc3, 0x28], 1], // bad continuation
        [[0xc0, 0xaf], 0], // overlong '/'
        [[0xe0, 0x80, 0xaf], 0], // overlong
        [[0x61, 0xed, 0xa0, 0x80], 1], // a surrogate
        [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
        [[0x80], 0], // a lone continuation byte
      ];
      for (const [bytes, at] of cases) expect(checkUtf8(Buffer.from(bytes)).invalid, bytes.join(' ')).to.equal(at);
    });
  });

  const good = Buffer.from('name,city\nJosé,Düsseldorf\nZoë,東京\n');

  it("'fail' accepts valid multi-byte text split across chunks at every byte", async () => {
    for (const chunks of splits(good)) {
      const { rows, error } = await parseChunks(chunks, { invalidUtf8: 'fail' });
      expect(error).to.equal(null);
      expect(rows).to.deep.equal([['José', 'Düsseldorf'], ['Zoë', '東京']]);
    }
  });

  const bad = Buffer.concat([Buffer.from('a,b\n1,2\n3,x'), Buffer.from([0xff]), Buffer.from('y\n5,6\n')]);

  it("'fail': a CsvError with the line and byte offset; the rows before it are delivered (any split)", async () => {
    for (const chunks of splits(bad)) {
      const { rows, error } = await parseChunks(chunks, { invalidUtf8: 'fail' });
      expect(rows).to.deep.equal([['1', '2']]);
      expect(error?.message).to.equal('csv, line 3: invalid UTF-8 at byte offset 11');
      expect(error?.line).to.equal(3);
    }
  });

  it("'fail': input that ends inside a character fails at that character's offset", async () => {
    const cut = Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from('€').subarray(0, 2)]);
    const { rows, error } = await parseChunks([cut], { invalidUtf8: 'fail' });
    expect(rows).to.deep.equal([]);
    expect(error?.message).to.equal('csv, line 2: invalid UTF-8 at byte offset 6');
  });

  it("'replace' (the default) turns invalid bytes into U+FFFD, like fast-csv", async () => {
    const { rows, error } = await parseChunks([bad]);
    expect(error).to.equal(null);
    expect(rows).to.deep.equal([['1', '2'], ['3', 'x\ufffdy'], ['5', '6']]);
  });

  it('ASCII chunks decode as Latin-1 (faster), except after a character left unfinished: the same text at every split into three', async () => {
    // é, then € cut off after two bytes (one U+FFFD), then ASCII only.
    const input = Buffer.concat([Buffer.from('a,b,c\n1,é'), Buffer.from('€').subarray(0, 2), Buffer.from(',x\n3,4,5\n')]);
    const expected = [['1', 'é\ufffd', 'x'], ['3', '4', '5']];
    expect(new TextDecoder().decode(input)).to.equal('a,b,c\n1,é\ufffd,x\n3,4,5\n');
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const { rows, error } = await parseChunks([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
        expect(error).to.equal(null);
        expect(rows, `split at ${i}, ${j}`).to.deep.equal(expected);
      }
    }
  });

  it('options: invalidUtf8 is checked, and fail needs utf8', () => {
    expect(thrown(() => csv.parse({ invalidUtf8: 'skip' as 'fail' })).message).to.equal("csv.parse(): expected `invalidUtf8` to be one of 'replace', 'fail', got `skip` (string)");
    expect(thrown(() => csv.parse({ invalidUtf8: 'fail', encoding: 'latin1' })).message).to.equal("csv.parse(): expected `encoding` to be 'utf8' when invalidUtf8 is 'fail', got `latin1` (string)");
  });
});
