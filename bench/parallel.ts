/**
 * `npx tsx bench/parallel.ts [--rows N]`: worker threads against their baselines, one run
 * each (the numbers are noisy on a shared machine):
 * 1. round trip of 43-column parking rows (one field added): sluice `parallel.map` (2
 *    threads) against piscina fed 1,000-row tasks and one row per task, and inline `map`;
 * 2. a CPU-bound function (~40 µs a row: examples/address-key.ts) over the CSV file, csv.read
 *    → key → csv.write, inline against 2 threads, each in its own process (wall time, peak RSS);
 * 3. an async function whose latency varies 10× (1–10 ms), concurrency 16: `map` in order
 *    against `ordered: false`, beside the bound concurrency / mean latency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Piscina } from 'piscina';
import { csv, map, parallel, run } from '../lib/index.js';
import { normaliseAddresses } from '../examples/addresses.js';
import { writeParkingCsv } from '../examples/sample-data.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const tasks = new URL('./parallel-tasks.ts', import.meta.url);
const perSecond = (rows: number, ms: number) => Math.round(rows / (ms / 1000)).toLocaleString('en-US').padStart(11);
const line = (name: string, rows: number, ms: number, note = '') => console.log(`  ${name.padEnd(44)} ${perSecond(rows, ms)} rows/s${note}`);

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

const sink = () => new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() });

async function roundTrip(rows: string[][]): Promise<void> {
  console.log(`1. round trip, ${rows.length.toLocaleString('en-US')} rows of 43 columns, one field added`);
  line('inline map', rows.length, await time(() => run(Readable.from(rows), map((row: string[]) => [...row, row[0]!]), sink())));
  const stage = parallel.map<string[], string[]>(tasks, { threads: 2 });
  line('sluice parallel.map, 2 threads', rows.length, await time(() => run(Readable.from(rows), stage, sink())), `   (${stage.stats.batches} batches; ${stage.stats.advice})`);
  const pool = new Piscina({ filename: tasks.href, minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
  try {
    await pool.run([rows[0]], { name: 'rows' }); // started and warm, as sluice's first batches are not
    line('piscina, 1,000-row tasks, 4 in flight', rows.length, await time(async () => {
      const inFlight: Promise<unknown>[] = [];
      for (let i = 0; i < rows.length; i += 1_000) {
        inFlight.push(pool.run(rows.slice(i, i + 1_000), { name: 'rows' }));
        if (inFlight.length >= 4) await inFlight.shift();
      }
      await Promise.all(inFlight);
    }));
    const few = rows.slice(0, 20_000);
    line(`piscina, one row per task (${few.length.toLocaleString('en-US')} rows)`, few.length, await time(async () => {
      const inFlight: Promise<unknown>[] = [];
      for (const row of few) {
        inFlight.push(pool.run(row, { name: 'row' }));
        if (inFlight.length >= 64) await inFlight.shift();
      }
      await Promise.all(inFlight);
    }));
  } finally {
    await pool.destroy();
  }
}

function cpuBound(input: string, rows: number): void {
  console.log(`2. address_key (~40 µs a row) on ${rows.toLocaleString('en-US')} rows, csv.read → key → csv.write, own process each`);
  const out = join(process.env.PARALLEL_BENCH_DIR ?? '/tmp/parallel-data', 'keyed.csv');
  const seconds: Record<number, number> = {};
  for (const threads of [0, 2]) {
    const argv = [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, '--contender', String(threads), '--in', input, '--out', out];
    const child = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.status !== 0) throw new Error(`threads ${threads} failed: ${child.stderr.toString()}`);
    const [s, kb] = child.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number);
    seconds[threads] = s!;
    const name = threads === 0 ? 'inline map' : `parallel.map, ${threads} threads`;
    console.log(`  ${name.padEnd(44)} ${perSecond(rows, s! * 1000)} rows/s   ${s!.toFixed(2)} s   peak RSS ${(kb! / 1024).toFixed(0)} MB`);
  }
  console.log(`  speed-up with 2 threads: ${(seconds[0]! / seconds[2]!).toFixed(2)}× (wall time, tsx start-up included)`);
  rmSync(out, { force: true });
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
    const ms = await time(() => pipeline(Readable.from(rows), map(call, { concurrency, ordered }), sink()));
    const share = ((count / (ms / 1000) / bound) * 100).toFixed(0);
    line(`map, ordered: ${ordered}`, count, ms, `   (${share}% of the bound)`);
  }
}

const contender = arg('contender');
if (contender !== undefined) {
  await normaliseAddresses(arg('in')!, arg('out')!, { threads: Number(contender) });
} else {
  const rows = Number(arg('rows') ?? 200_000);
  const dir = process.env.PARALLEL_BENCH_DIR ?? '/tmp/parallel-data';
  mkdirSync(dir, { recursive: true });
  const input = join(dir, `bench-${rows}.csv`);
  if (!existsSync(input)) await writeParkingCsv(input, { rows, seed: 1 });
  console.log(`node ${process.version}; ${rows.toLocaleString('en-US')} parking rows; one run each, on a machine shared with other jobs (noisy)`);
  const parsed: string[][] = [];
  for await (const row of csv.read(input)) parsed.push(row as string[]);
  await roundTrip(parsed);
  parsed.length = 0;
  cpuBound(input, rows);
  await varyingLatency();
}
