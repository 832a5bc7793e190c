/**
 * lib/csv/young-generation.ts: a child process parses ~120 MB of generated CSV (a long run's
 * allocation, fields kept for a few chunks as a pipeline's buffers keep them) and reports the
 * size of V8's young generation — bounded by default, grown past the bound when the
 * environment says `SLUICE_YOUNG_GENERATION=unbounded` (the control), and left alone when the
 * process was started with a young-generation flag of its own.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { YOUNG_BOUND } from '../../lib/csv/young-generation.js';

const root = new URL('../..', import.meta.url).pathname;
const script = `
  import { Readable, Writable } from 'node:stream';
  import { pipeline } from 'node:stream/promises';
  import { getHeapSpaceStatistics } from 'node:v8';
  import { csv } from '${root}lib/index.ts';
  const line = Array.from({ length: 40 }, (_, i) => 'field' + i).join(',') + '\\n';
  const chunk = Buffer.from(line.repeat(Math.floor(65536 / line.length)));
  let left = 2000;
  const source = new Readable({ read() { this.push(left-- > 0 ? chunk : null); } });
  const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
  // Loading the modules (tsx compiles them) may already have grown it: reported beside the result.
  const before = young();
  const held = [];
  const sink = new Writable({ objectMode: true, write(row, _e, cb) { held.push(row); if (held.length > 2000) held.splice(0, 1000); cb(); } });
  await pipeline(source, csv.parse({ header: false }), sink);
  process.stdout.write(JSON.stringify({ before, after: young() }));
`;

/** The young generation's size before the parse and after it. */
async function youngSize(env: Record<string, string>, flags: string[] = []): Promise<{ before: number; after: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as { before: number; after: number };
}

describe('csv.parse bounds the young generation', function () {
  this.timeout(60_000);

  it('stays within YOUNG_BOUND by default; grows past it with SLUICE_YOUNG_GENERATION=unbounded', async () => {
    const [bounded, unbounded] = await Promise.all([youngSize({}), youngSize({ SLUICE_YOUNG_GENERATION: 'unbounded' })]);
    // The bound stops growth from where the parse found it (it cannot shrink what start-up grew).
    expect(bounded.after).to.be.at.most(Math.max(YOUNG_BOUND, bounded.before));
    expect(unbounded.after).to.be.greaterThan(Math.max(YOUNG_BOUND, unbounded.before));
  });

  it("leaves a process started with its own young-generation flag alone", async () => {
    expect((await youngSize({}, ['--max-semi-space-size=16', '--min-semi-space-size=16'])).after).to.be.greaterThan(YOUNG_BOUND);
  });
});
