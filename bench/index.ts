/**
 * `npm run bench [-- --rows N --runs K]`: generates the parking data deterministically, then
 * runs each pipeline with sluice and with its baselines (the naive fast-csv Node pipeline,
 * and the Python generator + csv module version when python3 exists), K runs each, each in
 * its own process, and prints median wall time, rows/s, peak RSS and the ratio to Python.
 * Results also go to bench/results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeParkingCsv } from '../examples/sample-data.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rows = arg('rows', 1_000_000);
const runs = arg('runs', 3);
const root = new URL('..', import.meta.url).pathname;
const dataDir = join(root, 'data');
const input = join(dataDir, `bench-${rows}.csv`);
const tsx = [process.execPath, '--import', 'tsx'];
const hasPython = (() => {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Result { pipeline: string; contender: string; seconds: number; rowsPerSecond: number; rssMb: number; vsPython?: number }

function measure(command: string[]): { seconds: number; rss_mb: number } {
  const out = execFileSync('python3', [join(root, 'bench/measure.py'), ...command], { encoding: 'utf8' });
  const result = JSON.parse(out) as { code: number; seconds: number; rss_mb: number };
  if (result.code !== 0) throw new Error(`failed: ${command.join(' ')}`);
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

mkdirSync(dataDir, { recursive: true });
if (!existsSync(input)) {
  console.log(`generating ${rows} rows → ${input}`);
  await writeParkingCsv(input, { rows, seed: 2018 });
}

const contenders: Record<string, Record<string, string[]>> = {
  'nj-ford-police': {
    sluice: [...tsx, join(root, 'bench/run-sluice.ts'), 'nj-ford-police'],
    'naive fast-csv': [...tsx, join(root, 'bench/naive-fast-csv.ts')],
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/nj_ford_police.py')] } : {}),
  },
  'days-until-expiration': {
    sluice: [...tsx, join(root, 'bench/run-sluice.ts'), 'days-until-expiration'],
    ...(hasPython ? { 'python generators': ['python3', join(root, 'bench/python/days_until_expiration.py')] } : {}),
  },
};

const results: Result[] = [];
for (const [pipeline, entries] of Object.entries(contenders)) {
  for (const [contender, command] of Object.entries(entries)) {
    const samples = Array.from({ length: runs }, () => measure([...command, input, join(dataDir, `bench-out-${pipeline}.csv`)]));
    const seconds = median(samples.map((s) => s.seconds));
    results.push({ pipeline, contender, seconds, rowsPerSecond: Math.round(rows / seconds), rssMb: Math.max(...samples.map((s) => s.rss_mb)) });
  }
  const python = results.find((r) => r.pipeline === pipeline && r.contender === 'python generators');
  for (const r of results) if (python && r.pipeline === pipeline) r.vsPython = r.seconds / python.seconds;
}

console.log(`\n${rows.toLocaleString('en-US')} rows, median of ${runs} runs each\n`);
console.log('| pipeline | contender | wall s | rows/s | peak RSS MB | × python |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.pipeline} | ${r.contender} | ${r.seconds.toFixed(2)} | ${r.rowsPerSecond.toLocaleString('en-US')} | ${r.rssMb.toFixed(0)} | ${r.vsPython?.toFixed(2) ?? '–'} |`);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ rows, runs, node: process.version, results }, null, 2));
