import { expect } from 'chai';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csv, hashJoin } from '../../lib/index.js';
import { originOf } from '../../lib/core/origin.js';
import { CsvOrigin } from '../../lib/csv/index.js';
import { fromSpilled, toSpilled, type SpilledRow } from '../../lib/join/spilled-row.js';
import { RecordReader, RecordWriter } from '../../lib/spill/index.js';

/** A row through a record of the spill format and back, as a partition file holds it. */
function roundTrip(row: unknown): { record: SpilledRow; back: unknown } {
  const record = toSpilled(row);
  const writer = new RecordWriter(64, true);
  writer.add(record);
  return { record, back: fromSpilled(new RecordReader('test').record(writer.view(), 0) as SpilledRow) };
}
import { collect } from '../helpers/streams.js';

const TEXT = 'id,name,city\n1,ann,oslo\n2,"bo, jr",rome\n3,cy, lima \n';

async function parsed(text = TEXT): Promise<string[][]> {
  const sink = collect();
  await pipeline(Readable.from([text]), csv.parse({ source: 'people.csv' }), sink);
  return sink.rows as string[][];
}

describe('spilled-row (how a join partition holds a row)', () => {
  it('a parsed CSV row comes back with its fields, line and raw line (so csv.write can copy it)', async () => {
    const [row] = await parsed();
    const { record, back } = roundTrip(row) as { record: SpilledRow; back: string[] };
    expect(record).to.have.length(2);
    expect(back).to.deep.equal(['1', 'ann', 'oslo']);
    expect(originOf(back)).to.include({ source: 'people.csv', line: 2 });
    expect(CsvOrigin.rawOf(originOf(back))).to.include({ text: '1,ann,oslo', delimiter: ',', quote: '"' });
  });

  it('a row without a raw line (a quoted field), one changed in place, and a non-CSV row are held as themselves', async () => {
    const rows = await parsed();
    const changed = rows[2]!;
    changed[1] = 'dee';
    for (const row of [rows[1]!, changed, { id: 5, when: new Date(0) }]) {
      const { record, back } = roundTrip(row);
      expect(record).to.have.length(1);
      expect(back).to.deep.equal(row);
      expect(originOf(back)?.line).to.equal(originOf(row)?.line);
    }
  });

  it('a spilling hashJoin of parsed rows writes the same CSV as one that holds everything in memory', async () => {
    const lines = ['id,v'];
    for (let i = 0; i < 400; i++) lines.push(`${i % 97},v${i}`);
    const text = lines.join('\n') + '\n';
    const build = lines.slice(1).map((l) => l.split(',')).filter((_, i) => i % 3 === 0);
    const written = async (memory: number) => {
      const stage = hashJoin<string[], string[], string[]>(build, { on: 0, memory, merge: (l, r) => [...l!, r![1]!] });
      const sink = collect();
      await pipeline(Readable.from([text]), csv.parse({ source: 'in.csv' }), stage, csv.format(), sink);
      return { text: (sink.rows as string[]).join(''), spilled: stage.spilled };
    };
    const spilled = await written(2000);
    const inMemory = await written(1 << 30);
    expect(spilled.spilled).to.equal(true);
    expect(inMemory.spilled).to.equal(false);
    const sorted = (t: string) => t.split('\n').sort().join('\n');
    expect(sorted(spilled.text)).to.equal(sorted(inMemory.text));
  });
});
