/**
 * `npm run bench [-- --rows N --runs K --only sort,group-by-state]`: generates the parking data
 * deterministically, then runs each pipeline with sluice and with its baselines (the naive
 * Node pipelines on fast-csv's parser and on csv-parse, DuckDB's query of the same job, and
 * the Python generator + csv module version when python3 exists; for `sort` and `group-by`,
 * DuckDB with its defaults and with `memory_limit` = sluice's budget, GNU sort on raw lines as
 * a floor, and `external-merge-sort` from npm), K runs each, each in its own process
 * (`--only`: those pipelines alone), and prints median wall time,
 * rows/s, peak RSS and the ratio to Python. Results also go to bench/results/latest.json,
 * and as a bar chart to bench/chart.svg (shown in the README). Every Node contender runs as
 * one bundled ES module (esbuild, dependencies external) — what a user of the built package
 * runs — since tsx alone takes ~0.5 s to start here.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeParkingCsv } from '../examples/sample-data.js';
import { contenderEnv, contenderEnvNote } from './contender-env.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rows = arg('rows', 1_000_000);
const runs = arg('runs', 3);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : null;
/** sluice's budget in the sort and group-by pipelines (and DuckDB's `memory_limit` beside it). */
const budget = '64MB';
const root = new URL('..', import.meta.url).pathname;
const dataDir = join(root, 'data');
const input = join(dataDir, `bench-${rows}.csv`);
// sluice as plain JavaScript: bundled once per bench run into the git-ignored tmp/. Code
// splitting keeps the lazy imports lazy (fast-csv is loaded only as a fallback), as in dist/.
const bundleDir = join(root, 'tmp/bench/dist');
const bundled = join(bundleDir, 'run-sluice.mjs');
execFileSync(join(root, 'node_modules/.bin/esbuild'), [
  join(root, 'bench/run-sluice.ts'), join(root, 'bench/naive.ts'), join(root, 'bench/run-duckdb.ts'), join(root, 'bench/sort-jobs.ts'), '--bundle', '--splitting', '--platform=node', '--format=esm', '--packages=external',
  `--outdir=${bundleDir}`, '--out-extension:.js=.mjs', '--log-level=warning',
]);
// The WebAssembly CSV kernel, where the bundled loader looks for it (beside the bundle).
mkdirSync(join(bundleDir, 'wasm'), { recursive: true });
copyFileSync(join(root, 'lib/csv/wasm/csv-scan.wasm'), join(bundleDir, 'wasm/csv-scan.wasm'));
const sluice = (pipeline: string) => [process.execPath, bundled, pipeline];
const naive = (parser: string) => [process.execPath, join(bundleDir, 'naive.mjs'), parser];
const job = (name: string) => [process.execPath, join(bundleDir, 'sort-jobs.mjs'), name];
/** GNU sort on raw lines (not CSV-aware: a floor), by the make's then the summons number's field. */
const gnuSort = ['sh', '-c', `LC_ALL=C exec sort -S ${budget.replace(/B$/, '')} -t, -k8,8 -k1,1 -o "$2" "$1"`, 'gnu-sort'];
const duckdb = (pipeline: string) => [process.execPath, join(bundleDir, 'run-duckdb.mjs'), pipeline];
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Result { pipeline: string; contender: string; seconds: number; rowsPerSecond: number; rssMb: number; vsPython?: number; failed?: boolean }

/** One run of a command, or null when it failed (DuckDB does at small `memory_limit`s). */
function measure(command: string[]): { seconds: number; rss_mb: number } | null {
  const out = execFileSync('python3', [join(root, 'bench/measure.py'), ...command], { encoding: 'utf8', env: contenderEnv });
  const result = JSON.parse(out) as { code: number; seconds: number; rss_mb: number };
  return result.code === 0 ? result : null;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

mkdirSync(dataDir, { recursive: true });
if (!existsSync(input)) {
  console.log(`generating ${rows} rows → ${input}`);
  await writeParkingCsv(input, { rows, seed: 2018 });
}

const contenders: Record<string, Record<string, string[]>> = {
  'nj-ford-police': {
    sluice: sluice('nj-ford-police'),
    'sluice, columns option': sluice('nj-ford-police-columns'),
    'sluice, filter function': sluice('nj-ford-police-fn'),
    'naive fast-csv': naive('fast-csv'),
    'naive csv-parse': naive('csv-parse'),
    duckdb: duckdb('nj-ford-police'),
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/nj_ford_police.py')] } : {}),
  },
  'days-until-expiration': {
    sluice: sluice('days-until-expiration'),
    duckdb: duckdb('days-until-expiration'),
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/days_until_expiration.py')] } : {}),
  },
  sort: {
    [`sluice sort, memory ${budget}`]: job(`sluice-sort=${budget}`),
    'sluice csv.read → csv.write (no sort, a floor)': job('floor'),
    'external-merge-sort (runs of 100,000 rows)': job('external-merge-sort'),
    'DuckDB, default settings': job('duckdb-sort'),
    [`DuckDB, memory_limit ${budget}, 1 thread`]: job(`duckdb-sort=${budget}`),
    [`GNU sort -S ${budget} (raw lines, a floor)`]: gnuSort,
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/sort_by_make.py')] } : {}),
  },
  ...Object.fromEntries((['state', 'plate'] as const).map((by) => [`group-by-${by}`, {
    [`sluice groupBy, memory ${budget}`]: job(`sluice-group-${by}=${budget}`),
    'DuckDB, default settings': job(`duckdb-group-${by}`),
    [`DuckDB, memory_limit ${budget}, 1 thread`]: job(`duckdb-group-${by}=${budget}`),
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/group_by.py'), by === 'state' ? '2' : '1'] } : {}),
  }])),
};

const results: Result[] = [];
for (const [pipeline, entries] of Object.entries(contenders)) {
  if (only && !only.includes(pipeline)) continue;
  // Rounds alternate the contenders (A B C, A B C, …) rather than running each K times in a
  // block: a change in the machine's load then falls on all of them, not on one.
  const all = Object.entries(entries);
  const sampled = all.map((): (ReturnType<typeof measure>)[] => []);
  for (let round = 0; round < runs; round++) {
    all.forEach(([, command], i) => sampled[i]!.push(measure([...command, input, join(dataDir, `bench-out-${pipeline}.csv`)])));
  }
  for (const [i, [contender]] of all.entries()) {
    const samples = sampled[i]!;
    if (samples.some((s) => s === null)) {
      results.push({ pipeline, contender, seconds: 0, rowsPerSecond: 0, rssMb: 0, failed: true });
      continue;
    }
    const ok = samples as { seconds: number; rss_mb: number }[];
    const seconds = median(ok.map((s) => s.seconds));
    results.push({ pipeline, contender, seconds, rowsPerSecond: Math.round(rows / seconds), rssMb: Math.max(...ok.map((s) => s.rss_mb)) });
  }
  const python = results.find((r) => r.pipeline === pipeline && r.contender === 'python generators');
  for (const r of results) if (python && r.pipeline === pipeline && !r.failed) r.vsPython = r.seconds / python.seconds;
}

console.log(`\n${rows.toLocaleString('en-US')} rows, median of ${runs} runs each\n`);
if (contenderEnvNote) console.log(`(${contenderEnvNote})\n`);
console.log('| pipeline | contender | wall s | rows/s | peak RSS MB | × python |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  if (r.failed) console.log(`| ${r.pipeline} | ${r.contender} | failed | – | – | – |`);
  else console.log(`| ${r.pipeline} | ${r.contender} | ${r.seconds.toFixed(2)} | ${r.rowsPerSecond.toLocaleString('en-US')} | ${r.rssMb.toFixed(0)} | ${r.vsPython?.toFixed(2) ?? '–'} |`);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ rows, runs, node: process.version, results }, null, 2));
if (!only) writeFileSync(join(root, 'bench/chart.svg'), chart(results, rows)); // the README's chart shows every pipeline

/** A horizontal bar chart of wall time per contender, one group per pipeline. */
function chart(all: Result[], rowCount: number): string {
  const bar = 22;
  const left = 330;
  const width = 820;
  const max = Math.max(...all.map((r) => r.seconds));
  const scale = (width - left - 90) / max;
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  let y = 40;
  let body = '';
  for (const pipeline of [...new Set(all.map((r) => r.pipeline))]) {
    body += `<text x="10" y="${y + 14}" font-weight="bold">${escape(pipeline)}</text>`;
    y += 24;
    for (const r of all.filter((x) => x.pipeline === pipeline && !x.failed)) {
      const color = r.contender.startsWith('sluice') ? '#2a7ab0' : r.contender.startsWith('python') ? '#888' : '#c96';
      body += `<text x="20" y="${y + 15}">${escape(r.contender)}</text>`;
      body += `<rect x="${left}" y="${y}" width="${Math.max(1, r.seconds * scale).toFixed(1)}" height="${bar - 4}" fill="${color}"/>`;
      body += `<text x="${(left + r.seconds * scale + 6).toFixed(1)}" y="${y + 15}">${r.seconds.toFixed(2)} s · ${r.rssMb.toFixed(0)} MB${r.vsPython === undefined ? '' : ` · ${r.vsPython.toFixed(2)}×`}</text>`;
      y += bar;
    }
    y += 12;
  }
  const title = `Wall time, ${rowCount.toLocaleString('en-US')} rows (median of ${runs}); peak RSS; × Python`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15">${escape(title)}</text>${body}</svg>\n`;
}
