/**
 * Scenario 1 of bench/parallel.ts, in a process of its own on plain Node over the built
 * package (bench/parallel.ts bundles this file to .mjs and runs it as
 * `node parallel-round-trip.mjs SLUICE_URL INPUT TASKS_URL`): the CSV file's rows, read into
 * memory first, go through inline `map`, sluice `parallel.map` (2 threads) and piscina
 * (1,000-row tasks, and one row per task), then `parallel.map` with 1 thread and `mainThread`
 * (the main thread runs a share of the batches: not every row crosses), each timed with its workers' start-up inside, their
 * row function from TASKS_URL (bench/parallel-tasks.ts built to plain .mjs: no tsx in any
 * thread). Prints one JSON line a contender: `{ name, rows, ms, cpu, note }`.
 */
import { Readable, Writable } from 'node:stream';
import { Piscina } from 'piscina';
import { measure, type CpuSplit } from './thread-cpu.js';

type Sluice = typeof import('../lib/index.js');

const [sluiceUrl, input, tasks] = process.argv.slice(2);
const { csv, map, parallel, run } = (await import(sluiceUrl)) as Sluice;


const report = (name: string, rows: number, measured: { ms: number; cpu: CpuSplit | null }, note = '') =>
  console.log(JSON.stringify({ name, rows, ...measured, note }));

const sink = () => new Writable({ objectMode: true, write: (_row, _encoding, callback) => callback() });

async function piscinaTasks(pool: Piscina, rows: string[][], perTask: number, inFlight: number): Promise<void> {
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < rows.length; i += perTask) {
    running.push(perTask === 1 ? pool.run(rows[i], { name: 'row' }) : pool.run(rows.slice(i, i + perTask), { name: 'rows' }));
    if (running.length >= inFlight) await running.shift();
  }
  await Promise.all(running);
}

const rows: string[][] = [];
for await (const row of csv.read(input)) rows.push(row as string[]);

report('inline map', rows.length, await measure(() => run(Readable.from(rows), map((row: string[]) => [...row, row[0]!]), sink())));
const stage = parallel.map<string[], string[]>(tasks, { threads: 2 });
const ours = await measure(() => run(Readable.from(rows), stage, sink()));
report('sluice parallel.map, 2 threads', rows.length, ours, `; ${stage.stats.batches} batches; ${stage.stats.advice}`);
let pool: Piscina | undefined;
const theirs = await measure(async () => {
  pool = new Piscina({ filename: tasks, minThreads: 2, maxThreads: 2, idleTimeout: Infinity });
  await piscinaTasks(pool, rows, 1_000, 4);
});
try {
  report('piscina, 1,000-row tasks, 4 in flight', rows.length, theirs);
  const few = rows.slice(0, 20_000);
  report(`piscina, one row per task (${few.length.toLocaleString('en-US')} rows)`, few.length, await measure(() => piscinaTasks(pool!, few, 1, 64)));
} finally {
  await pool?.destroy();
}
// Not a round trip for every row: the main thread runs a share of the batches itself.
const shared = parallel.map<string[], string[]>(tasks, { threads: 1, mainThread: true });
report('sluice parallel.map, 1 thread + mainThread', rows.length, await measure(() => run(Readable.from(rows), shared, sink())), `; ${shared.stats.mainBatches} of ${shared.stats.batches} batches on the main thread`);
