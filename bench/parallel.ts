/**
 * `npx tsx bench/parallel.ts [--rows N]`: worker threads against their baselines, one run
 * each (the numbers are noisy on a shared machine, so beside each wall time it prints the
 * CPU time a row cost on the main thread and on the other threads, which the other jobs'
 * load disturbs far less — bench/thread-cpu.ts):
 * 1. round trip of 43-column parking rows (one field added): sluice `parallel.map` (2
 *    threads) against piscina fed 1,000-row tasks and one row per task, and inline `map`;
 *    sluice and piscina's 1,000-row tasks both start their 2 workers inside the timing;
 * 2. a CPU-bound function (examples/address-key.ts) over the CSV file → key → csv.write:
 *    inline (csv.read → map), csv.read → parallel.map with 2 threads, and parallel.csv with
 *    2 threads (the workers read and parse the file too), each in its own process running the built ES
 *    modules (dist/esm, built here with tsc) on plain Node, as a user of the package would:
 *    under tsx every worker would also start tsx (~0.5 s and ~30 MB each). Prints wall
 *    time, peak RSS, the CPU split, and the speed-up that split allows on 2 idle cores;
 * 3. an async function whose latency varies 10× (1–10 ms), concurrency 16: `map` in order
 *    against `ordered: false`, beside the bound concurrency / mean latency.
 * `--only address` runs scenario 2 alone (for 1 M rows: scenario 1 holds every row in memory).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Piscina } from 'piscina';
import { csv, map, parallel, run } from '../lib/index.js';
import { writeParkingCsv } from '../examples/sample-data.js';
import { CpuMeter, cpuPerRow, type CpuSplit } from './thread-cpu.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const root = new URL('..', import.meta.url).pathname;
const tasks = new URL('./parallel-tasks.ts', import.meta.url);
const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US').padStart(11);
const line = (name: string, rows: number, ms: number, note = '') => console.log(`  ${name.padEnd(44)} ${perSecond(rows, ms)} rows/s${note}`);

/** Wall milliseconds and the CPU split of `fn`. */
async function measure(fn: () => Promise<unknown>): Promise<{ ms: number; cpu: CpuSplit | null }> {
  const meter = new CpuMeter();
  const started = performance.now();
  await fn();
  const ms = performance.now() - started;
  return { ms, cpu: meter.stop() };
}

const sink = () => new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() });

async function piscinaTasks(pool: Piscina, rows: string[][], perTask: number, inFlight: number): Promise<void> {
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < rows.length; i += perTask) {
    running.push(perTask === 1 ? pool.run(rows[i], { name: 'row' }) : pool.run(rows.slice(i, i + perTask), { name: 'rows' }));
    if (running.length >= inFlight) await running.shift();
  }
  await Promise.all(running);
}

async function roundTrip(rows: string[][]): Promise<void> {
  console.log(`1. round trip, ${rows.length.toLocaleString('en-US')} rows of 43 columns, one field added`);
  const show = (name: string, count: number, { ms, cpu }: { ms: number; cpu: CpuSplit | null }, note = '') => line(name, count, ms, `   ${cpuPerRow(cpu, count)}${note}`);
  show('inline map', rows.length, await measure(() => run(Readable.from(rows), map((row: string[]) => [...row, row[0]!]), sink())));
  const stage = parallel.map<string[], string[]>(tasks, { threads: 2 });
  const ours = await measure(() => run(Readable.from(rows), stage, sink()));
  show('sluice parallel.map, 2 threads', rows.length, ours, `; ${stage.stats.batches} batches; ${stage.stats.advice}`);
  let pool: Piscina | undefined;
  const theirs = await measure(async () => {
    pool = new Piscina({ filename: tasks.href, minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
    await piscinaTasks(pool, rows, 1_000, 4);
  });
  try {
    show('piscina, 1,000-row tasks, 4 in flight', rows.length, theirs);
    console.log(`  sluice against piscina's 1,000-row tasks: ${(theirs.ms / ours.ms).toFixed(2)}× (both start 2 workers inside the timing)`);
    const few = rows.slice(0, 20_000);
    show(`piscina, one row per task (${few.length.toLocaleString('en-US')} rows)`, few.length, await measure(() => piscinaTasks(pool!, few, 1, 64)));
  } finally {
    await pool?.destroy();
  }
}

/** The CPU-bound contender, as plain ES modules over dist/esm (see the top of this file). */
function buildContender(dir: string): string {
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.json')]);
  cpSync(join(root, 'lib/csv/wasm'), join(root, 'dist/esm/csv/wasm'), { recursive: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [
    join(root, 'examples/address-key.ts'), join(root, 'bench/thread-cpu.ts'), '--platform=node', '--format=esm', `--outdir=${dir}`, '--entry-names=[name]', '--out-extension:.js=.mjs', '--log-level=warning',
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
    '  const keyed = threads === 0 ? map(withAddressKey) : parallel.map(fn, { threads });',
    "  await run(source, keyed, csv.write(output, { headers: () => [...(source.headers ?? []), 'address_key'] }));",
    '}',
    'console.log(JSON.stringify({ ms: performance.now() - started, cpu: meter.stop() }));',
  ].join('\n'));
  return contender;
}

function cpuBound(input: string, rows: number, dir: string): void {
  console.log(`2. address_key on ${rows.toLocaleString('en-US')} rows, csv.read → key → csv.write, own process each (dist/esm, plain node)`);
  const contender = buildContender(join(root, 'tmp/bench/parallel'));
  const out = join(dir, 'keyed.csv');
  const contenders = [
    { name: 'inline map', threads: 0, mode: 'map' },
    { name: 'csv.read → parallel.map, 2 threads', threads: 2, mode: 'map' },
    { name: 'parallel.csv, 2 threads', threads: 2, mode: 'csv' },
  ];
  const results: { name: string; ms: number; cpu: CpuSplit | null }[] = [];
  for (const { name, threads, mode } of contenders) {
    const child = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, contender, input, out, String(threads), mode], { encoding: 'utf8' });
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
const only = arg('only');
if (only !== undefined && only !== 'address') throw new Error(`--only takes 'address', got ${only}`);
if (only === undefined) {
  const parsed: string[][] = [];
  for await (const row of csv.read(input)) parsed.push(row as string[]);
  await roundTrip(parsed);
  parsed.length = 0;
}
cpuBound(input, rows, dir);
if (only === undefined) await varyingLatency();
