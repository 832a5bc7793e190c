/**
 * The stage base class's own `_write` (lib/core/stage.ts): one callback for every row instead
 * of Transform's closure a row — the same rows out, the same holding back while the output is
 * full, and a transform that calls back twice fails the stage as Node's own check would.
 */
import { expect } from 'chai';
import { Readable, type TransformCallback } from 'node:stream';
import { run } from '../../lib/index.js';
import { Stage } from '../../lib/core/stage.js';
import { collect, quiesce, range } from '../helpers/streams.js';

class Doubling extends Stage<number, number> {
  override _transform(row: number, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stats.in++;
    callback(null, row * 2);
  }
}

describe('Stage (the base of every operation)', () => {
  it('passes each row its transform gives, in order, synchronous or not', async () => {
    class Later extends Stage<number, number> {
      override _transform(row: number, _encoding: BufferEncoding, callback: TransformCallback): void {
        setImmediate(() => callback(null, row + 1));
      }
    }
    const sink = collect<number>();
    await run(range(1000), new Doubling('doubling'), new Later('later'), sink);
    expect(sink.rows).to.deep.equal(Array.from({ length: 1000 }, (_, i) => (i + 1) * 2 + 1));
  });

  it('holds a write back while its output is full, and takes the next once it is read (control: a reader that reads all)', async () => {
    const stage = new Doubling('doubling', 4);
    let pulled = 0;
    const source = new Readable({ objectMode: true, highWaterMark: 1, read() { this.push(pulled < 1000 ? pulled++ : null); } });
    source.pipe(stage);
    // Nothing reads the stage: the source runs as far as backpressure lets it, then stops.
    const held = await quiesce(() => pulled);
    expect(stage.readableLength).to.equal(4);
    expect(held).to.be.below(20);
    const rows: number[] = [];
    for await (const row of stage) rows.push(row as number);
    expect(rows).to.have.length(1000);
    expect(pulled).to.equal(1000);
  });

  it('a transform that calls back twice fails the stage, naming it', async () => {
    class Twice extends Stage<number, number> {
      override _transform(row: number, _encoding: BufferEncoding, callback: TransformCallback): void {
        callback(null, row);
        if (row === 3) callback(null, row);
      }
    }
    let failure: unknown;
    await run(range(10), new Twice('twice'), collect()).catch((error: unknown) => (failure = error));
    expect(String(failure)).to.contain("twice: a row's transform called back twice");
  });
});
