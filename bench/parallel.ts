/**
 * `npx tsx bench/parallel.ts [--rows N]`: worker threads against their baselines, one run
 * each (the numbers are noisy on a shared machine, so beside each wall time it prints the
 * CPU time a row cost on the main thread and on the other threads, which the other jobs'
 * load disturbs far less — bench/thread-cpu.ts). Every contender runs in a process of its
 * own on plain Node over the built ES modules (dist/esm, built here with tsc), its row
 * functions bundled to plain .mjs, as a user of the package would run it: under tsx every
 * worker would also start tsx (~0.5 s and ~30 MB each), inside the timing.
 * 1. round trip of 43-column parking rows (one field added; bench/parallel-round-trip.ts,
 *    the rows read into memory first): sluice `parallel.map` (2 threads) against piscina
 *    fed 1,000-row tasks and one row per task (its task module bench/parallel-tasks.ts as
 *    .mjs), and inline `map`; sluice and piscina's 1,000-row tasks both start their 2
 *    workers inside the timing; then `parallel.map` with 1 thread and `mainThread`;
 * 2. a CPU-bound function (examples/address-key.ts) over the CSV file → key → csv.write:
 *    inline (csv.read → map), csv.read → parallel.map with 2 threads, with 1 thread and
 *    `mainThread` (the main thread runs a share of the batches: 2 threads in all), and
 *    parallel.csv with 2 threads (the workers read and parse the file too), each in its own process. Prints
 *    wall time, peak RSS, the CPU split, and the speed-up that split allows on 2 idle cores;
 * 3. an async function whose latency varies 10× (1–10 ms), concurrency 16: `map` in order
 *    against `ordered: false`, beside the bound concurrency / mean latency (in this process:
 *    no threads).
 * Until 2026-12-07 scenario 1 ran in this process under tsx, its workers' tsx start-up
 * inside the timing of both sluice and piscina: its numbers before then are not comparable.
 * `--only address` runs scenario 2 alone (for 1 M rows: scenario 1 holds every row in memory).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { map } from '../lib/index.js';
import { writeParkingCsv } from '../examples/sample-data.js';
import { contenderEnv, contenderEnvNote } from './contender-env.js';
import { cpuPerRow, measure, type CpuSplit } from './thread-cpu.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const root = new URL('..', import.meta.url).pathname;
const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US').padStart(11);
const line = (name: string, rows: number, ms: number, note = '') => console.log(`  ${name.padEnd(44)} ${perSecond(rows, ms)} rows/s${note}`);


const sink = () => new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() });

function roundTrip(input: string, dir: string): void {
  const child = spawnSync(process.execPath, [join(dir, 'parallel-round-trip.mjs'), pathToFileURL(join(root, 'dist/esm/index.js')).href, input, pathToFileURL(join(dir, 'parallel-tasks.mjs')).href], { encoding: 'utf8', env: contenderEnv });
  if (child.status !== 0) throw new Error(`the round trip failed: ${child.stderr}`);
  const results = child.stdout.trim().split('\n').map((text) => JSON.parse(text) as { name: string; rows: number; ms: number; cpu: CpuSplit | null; note: string });
  console.log(`1. round trip, ${results[0].rows.toLocaleString('en-US')} rows of 43 columns, one field added, own process (dist/esm, plain node)`);
  for (const { name, rows, ms, cpu, note } of results) line(name, rows, ms, `   ${cpuPerRow(cpu, rows)}${note}`);
  const [ours, theirs, one] = [results[1], results[2], results[3]];
  const speed = (r: { rows: number; ms: number }) => r.rows / r.ms;
  console.log(`  sluice against piscina's 1,000-row tasks: ${(speed(ours) / speed(theirs)).toFixed(2)}× (both start 2 workers inside the timing); against one row per task: ${(speed(ours) / speed(one)).toFixed(1)}×`);
}

/** Builds the contenders as plain ES modules over dist/esm (see the top of this file); returns scenario 2's. */
function buildContender(dir: string): string {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.json')]);
  cpSync(join(root, 'lib/csv/wasm'), join(root, 'dist/esm/csv/wasm'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [
    join(root, 'examples/address-key.ts'), join(root, 'bench/thread-cpu.ts'), join(root, 'bench/parallel-tasks.ts'), join(root, 'bench/parallel-round-trip.ts'),
    '--bundle', '--external:piscina', '--platform=node', '--format=esm', `--outdir=${dir}`, '--entry-names=[name]', '--out-extension:.js=.mjs', '--log-level=warning',
  ]);
  const contender = join(dir, 'address-contender.mjs');
  writeFileSync(contender, [
    `import { csv, map, parallel, run } from ${JSON.stringify(join(root, 'dist/esm/index.js'))};`,
    "import withAddressKey from './address-key.mjs';",
    "import { CpuMeter } from './thread-cpu.mjs';",
    'const [input, output, threads, mode] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];',
    'const meter = new CpuMeter();',
    'const started = performance.now();',
    "const fn = new URL('./address-key.mjs', import.meta.url);",
    "if (mode === 'csv') {",
    '  const keyed = parallel.csv(input, fn, { threads });',
    "  await run(keyed, csv.write(output, { headers: () => [...(keyed.headers ?? []), 'address_key'] }));",
    '} else {',
    '  const source = csv.read(input);',
    "  const keyed = threads === 0 ? map(withAddressKey) : parallel.map(fn, { threads, mainThread: mode === 'main' });",
    "  await run(source, keyed, csv.write(output, { headers: () => [...(source.headers ?? []), 'address_key'] }));",
    '}',
    'console.log(JSON.stringify({ ms: performance.now() - started, cpu: meter.stop() }));',
  ].join('\n'));
  return contender;
}

function cpuBound(input: string, rows: number, dir: string, contender: string): void {
  console.log(`2. address_key on ${rows.toLocaleString('en-US')} rows, csv.read → key → csv.write, own process each (dist/esm, plain node)`);
  const out = join(dir, 'keyed.csv');
  const contenders = [
    { name: 'inline map', threads: 0, mode: 'map' },
    { name: 'csv.read → parallel.map, 2 threads', threads: 2, mode: 'map' },
    { name: 'csv.read → parallel.map, 1 thread + main', threads: 1, mode: 'main' },
    { name: 'parallel.csv, 2 threads', threads: 2, mode: 'csv' },
  ];
  const results: { name: string; ms: number; cpu: CpuSplit | null }[] = [];
  for (const { name, threads, mode } of contenders) {
    const child = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, contender, input, out, String(threads), mode], { encoding: 'utf8', env: contenderEnv });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms: number; cpu: CpuSplit | null };
    results.push({ name, ...result });
    const kb = Number(child.stderr.trim().split('\n').pop());
    console.log(`  ${name.padEnd(44)} ${perSecond(rows, result.ms)} rows/s   ${(result.ms / 1000).toFixed(2)} s   peak RSS ${(kb / 1024).toFixed(0)} MB   ${cpuPerRow(result.cpu, rows)}`);
  }
  rmSync(out, { force: true });
  const [inline, ...threaded] = results;
  for (const { name, ms, cpu } of threaded) {
    console.log(`  ${name}: speed-up ${(inline.ms / ms).toFixed(2)}× (wall time)`);
    if (inline.cpu && cpu) {
      // On 2 idle cores the run takes at least its total CPU over 2, and at least the main thread's share.
      const bound = (inline.cpu.main + inline.cpu.others) / Math.max(cpu.main, (cpu.main + cpu.others) / 2);
      console.log(`    speed-up the CPU split allows on 2 idle cores: ${bound.toFixed(2)}× (inline CPU ÷ max(main thread, all threads ÷ 2) with threads)`);
    }
  }
}

async function varyingLatency(): Promise<void> {
  const [count, concurrency] = [2_000, 16];
  // Latencies 1-10 ms in a fixed pseudo-random order (the same for both runs).
  const latency = (i: number) => 1 + ((i * 7_919) % 10);
  const mean = Array.from({ length: count }, (_, i) => latency(i)).reduce((a, b) => a + b, 0) / count;
  const bound = (concurrency / mean) * 1000;
  console.log(`3. async function, latency 1–10 ms (mean ${mean.toFixed(1)} ms), concurrency ${concurrency}, ${count} rows; bound ${Math.round(bound)} rows/s`);
  const call = (i: number) => new Promise<number>((resolve) => setTimeout(() => resolve(i), latency(i)));
  const rows = Array.from({ length: count }, (_, i) => i);
  for (const ordered of [true, false]) {
    const { ms } = await measure(() => pipeline(Readable.from(rows), map(call, { concurrency, ordered }), sink()));
    const share = ((count / (ms / 1000) / bound) * 100).toFixed(0);
    line(`map, ordered: ${ordered}`, count, ms, `   (${share}% of the bound)`);
  }
}

const rows = Number(arg('rows') ?? 200_000);
const dir = process.env.PARALLEL_BENCH_DIR ?? '/tmp/parallel-data';
mkdirSync(dir, { recursive: true });
const input = join(dir, `bench-${rows}.csv`);
if (!existsSync(input)) await writeParkingCsv(input, { rows, seed: 1 });
console.log(`node ${process.version}; ${rows.toLocaleString('en-US')} parking rows; one run each, on a machine shared with other jobs (noisy)`);
if (contenderEnvNote) console.log(`(${contenderEnvNote})`);
const only = arg('only');
if (only !== undefined && only !== 'address') throw new Error(`--only takes 'address', got ${only}`);
const built = join(root, 'tmp/bench/parallel');
const contender = buildContender(built);
if (only === undefined) roundTrip(input, built);
cpuBound(input, rows, dir, contender);
if (only === undefined) await varyingLatency();
