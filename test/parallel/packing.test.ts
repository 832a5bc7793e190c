import { expect } from 'chai';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { csv, run } from '../../lib/index.js';
import { FillingBatch, type FilledBatch } from '../../lib/parallel/filling-batch.js';
import { pack, unpack } from '../../lib/parallel/packing.js';
import { rawLineOf } from '../../lib/parallel/raw-rows.js';
import { RowSizer } from '../../lib/parallel/row-size.js';
import { collect } from '../helpers/streams.js';

/** The rows csv.parse makes of `text` (with their origins, raw lines included). */
async function parsed(text: string, delimiter = ','): Promise<string[][]> {
  const sink = collect<string[]>();
  await run(Readable.from([text]), csv.parse({ delimiter, header: false, ragged: 'keep' }), sink);
  return sink.rows;
}

/** Rows through a FillingBatch, packed, cloned as postMessage does, unpacked: what a worker gets, batch by batch. */
function crossed(rows: unknown[], maxBytes: number): { batches: FilledBatch<unknown>[]; received: unknown[][] } {
  const sizer = new RowSizer();
  const filling = new FillingBatch<unknown>(maxBytes, sizer.bytes);
  const batches = rows.flatMap((row) => filling.add(row));
  const last = filling.close();
  if (last) batches.push(last);
  const received = batches.map((batch) => unpack(structuredClone(pack(batch.rows, sizer.sawOther, batch.lines).packed)));
  return { batches, received };
}

const field = fc.oneof(fc.constantFrom('', ' ', 'a b', ' lead', 'trail ', 'x', '1.5', 'é😀'), fc.string({ maxLength: 6 }), fc.constantFrom('a,b', 'say "hi"', 'two\nlines', 'semi;colon'));
const quoted = (value: string, delimiter: string) => (/[",;\n\r]/.test(value) || value.trim() !== value || value === '' ? `"${value.replaceAll('"', '""')}"` : value);
const csvText = (rows: string[][], delimiter: string) => rows.map((row) => row.map((value) => quoted(value, delimiter)).join(delimiter)).join('\n') + '\n';

describe('parallel.map packing (rows as their CSV lines)', () => {
  it('a row read from a plain line and unchanged is its line; quoted, changed, grown or shrunk rows are not', async () => {
    const rows = await parsed('a,b,c\n"q,uoted",b,c\nd,e,f\ng,h,i\nj,k,l\n m,n,o\n');
    expect(rawLineOf(rows[0])).to.include({ text: 'a,b,c', delimiter: ',' });
    expect(rawLineOf(rows[1])).to.equal(undefined);
    rows[2][1] = 'changed';
    rows[3].push('grown');
    rows[4].pop();
    expect([rows[2], rows[3], rows[4]].map(rawLineOf)).to.deep.equal([undefined, undefined, undefined]);
    expect(rawLineOf([...rows[0]]), 'a copy has no origin').to.equal(undefined);
    expect(rawLineOf('a,b,c')).to.equal(undefined);
  });

  it('a batch of line rows crosses as one string; the other rows ride beside it in their places', async () => {
    const rows: unknown[] = await parsed('a,b\nc,d\n"e,f",g\nh,i\n');
    rows.splice(1, 0, { not: 'a line' }, [1, -0, NaN]);
    const { batches, received } = crossed(rows, 1 << 20);
    expect(batches).to.have.length(1);
    const packed = pack(batches[0].rows, true, batches[0].lines).packed;
    expect(packed).to.deep.include({ kind: 'lines', text: 'a,b\nc,d\nh,i', delimiter: ',', at: [1, 2, 4] });
    expect(received[0]).to.deep.equal(rows.map((row) => (Array.isArray(row) ? [...row] : row)));
    expect(Object.is((received[0][2] as unknown[])[1], -0)).to.equal(true);
  });

  it('a batch whose other rows hold a Buffer is sent serialized whole (Buffers restored)', async () => {
    const rows: unknown[] = [...(await parsed('a,b\n')), [Buffer.from('x')]];
    const { received } = crossed(rows, 1 << 20);
    expect(Buffer.isBuffer((received[0][1] as unknown[])[0])).to.equal(true);
    expect(received[0][0]).to.deep.equal(['a', 'b']);
  });

  it('rows of two delimiters in one batch: the lines share the first one, the rest are other rows', async () => {
    const rows = [...(await parsed('a,b\n')), ...(await parsed('c;d\n', ';')), ...(await parsed('e,f\n'))];
    const { batches, received } = crossed(rows, 1 << 20);
    expect(batches[0].lines).to.deep.equal({ texts: ['a,b', 'e,f'], delimiter: ',', others: [1] });
    expect(received[0]).to.deep.equal([['a', 'b'], ['c', 'd'], ['e', 'f']]);
  });

  it('batches are closed by bytes (a line row weighs its line): never empty, past the limit only alone', async () => {
    const rows = await parsed('aaaa,bbbb\nc,d\ne,f\n' + 'x'.repeat(40) + '\ng,h\n');
    const { batches } = crossed(rows, 10);
    expect(batches.map((batch) => batch.rows.length)).to.deep.equal([1, 2, 1, 1]);
  });

  it('maxRows closes a batch at that many rows, bytes allowing more', async () => {
    const rows = await parsed('a,b\nc,d\ne,f\ng,h\ni,j\n');
    const filling = new FillingBatch<unknown>(1 << 20, new RowSizer().bytes);
    filling.maxRows = 2;
    const batches = rows.flatMap((row) => filling.add(row));
    expect(batches.map((batch) => batch.rows.length)).to.deep.equal([2, 2]);
    expect(filling.close()?.rows).to.have.length(1);
  });

  it('property: every row crosses exactly, in order, whatever mix of fields, quotes, delimiters and in-place changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 30 }),
        fc.constantFrom(',', ';', '\t'),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 200 }),
        async (table, delimiter, changes, maxBytes) => {
          const rows = await parsed(csvText(table, delimiter), delimiter);
          for (const at of changes) if (rows.length > 0) rows[at % rows.length][0] += '!';
          const { received } = crossed(rows, maxBytes);
          expect(received.flat()).to.deep.equal(rows.map((row) => [...row]));
        },
      ),
      { numRuns: 150 },
    );
  });
});
