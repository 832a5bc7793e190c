/**
 * `npx tsx bench/sort.ts [--rows N] [--job sort|group-by|memory] [--memory 64MB]`: on the
 * generated parking file (written once to /tmp/sluice-bench-data, or $SLUICE_BENCH_DATA), each
 * contender once, in its own process (bench/sort-jobs.ts bundled to plain JavaScript), with
 * wall time and peak RSS from /usr/bin/time, and the ratio to Python:
 * - `sort` by vehicle make, then summons number: sluice `sort` in `memory`, sluice with
 *   `Array.sort` of every row, Python csv + `sorted`, DuckDB (default settings, and
 *   `memory_limit` = `memory` with 1 thread), GNU `sort -S` on raw lines (not CSV-aware, a
 *   floor), `external-merge-sort` from npm.
 * - `group-by`: count + sum of Feet From Curb by state (12 groups) and by plate (~1 M groups):
 *   sluice `groupBy` in `memory`, Python dict, DuckDB (both settings).
 * - `memory`: `--rows` generated small rows (no file) sorted in `memory`; prints peak RSS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeParkingCsv } from '../examples/sample-data.js';
import { contenderEnv, contenderEnvNote } from './contender-env.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const rows = Number(arg('rows', '1000000'));
const job = arg('job', 'sort');
const memory = arg('memory', '64MB');
const root = new URL('..', import.meta.url).pathname;
const dataDir = process.env.SLUICE_BENCH_DATA ?? '/tmp/sluice-bench-data';
mkdirSync(dataDir, { recursive: true });
// Bundled into the git-ignored tmp/ (as bench/index.ts does), where imports resolve to node_modules.
const bundle = join(root, 'tmp/bench/sort-jobs.mjs');
execFileSync(join(root, 'node_modules/.bin/esbuild'), [join(root, 'bench/sort-jobs.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${bundle}`, '--log-level=warning']);
// The WebAssembly CSV kernel, where the bundled loader looks for it (without it csv.read falls back to the JS scanner).
mkdirSync(join(root, 'tmp/bench/wasm'), { recursive: true });
copyFileSync(join(root, 'lib/csv/wasm/csv-scan.wasm'), join(root, 'tmp/bench/wasm/csv-scan.wasm'));
const out = join(dataDir, 'bench-out.csv');

let python: number | undefined;
function measure(name: string, argv: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
  const child = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { cwd: root, env: { ...contenderEnv, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const report = child.stderr.toString().trim().split('\n');
  if (child.status !== 0) {
    const reason = report.find((line) => /error/i.test(line)) ?? report.slice(-3, -1).join(' ');
    console.log(`${name.padEnd(44)} failed: ${reason.trim().slice(0, 160)}`);
    return '';
  }
  const [seconds, kb] = report.pop()!.split(' ').map(Number) as [number, number];
  if (name.startsWith('Python')) python = seconds;
  const ratio = python ? `${(seconds / python).toFixed(2)}× Python` : '';
  console.log(`${name.padEnd(44)} ${seconds.toFixed(2).padStart(7)} s ${Math.round(rows / seconds).toLocaleString('en-US').padStart(10)} rows/s   peak RSS ${(kb / 1024).toFixed(0).padStart(5)} MB   ${ratio}`);
  return child.stdout.toString();
}
const node = (jobName: string, limit?: string) => [process.execPath, bundle, limit ? `${jobName}=${limit}` : jobName, input, out];
const py = (code: string) => ['python3', '-c', code, input, out];

const input = join(dataDir, `bench-${rows}.csv`);
if (job !== 'memory' && !existsSync(input)) await writeParkingCsv(input, { rows, seed: 1 });
console.log(`${job}: ${rows.toLocaleString('en-US')} rows, one run each on a shared machine (noisy)`);
if (contenderEnvNote) console.log(`(${contenderEnvNote})`);

if (job === 'sort') {
  measure('Python csv + sorted', py(`import csv, sys
with open(sys.argv[1], newline='') as f:
    r = csv.reader(f); header = next(r); rows = sorted(r, key=lambda x: (x[7], x[0]))
with open(sys.argv[2], 'w', newline='') as f:
    w = csv.writer(f); w.writerow(header); w.writerows(rows)`));
  measure(`sluice sort, memory '${memory}'`, node('sluice-sort', memory));
  measure('sluice csv.read + Array.sort', node('array-sort'));
  measure('external-merge-sort (runs of 100,000 rows)', node('external-merge-sort'));
  measure('sluice csv.read → csv.write (no sort, a floor)', node('floor'));
  measure('DuckDB, default settings', node('duckdb-sort'));
  measure(`DuckDB, memory_limit ${memory}, 1 thread`, node('duckdb-sort', memory));
  measure(`GNU sort -S ${memory.replace(/B$/i, '')} (lines, a floor)`, ['sort', '-S', memory.replace(/B$/i, ''), '-t,', '-k8,8', '-k1,1', '-o', out, input], { LC_ALL: 'C' });
} else if (job === 'group-by') {
  for (const [by, column] of [['state', 2], ['plate', 1]] as const) {
    python = undefined;
    measure(`Python dict, by ${by}`, py(`import csv, sys
groups = {}
with open(sys.argv[1], newline='') as f:
    r = csv.reader(f); next(r)
    for row in r:
        g = groups.get(row[${column}])
        if g is None: g = groups[row[${column}]] = [0, 0.0]
        g[0] += 1
        if row[37] != '': g[1] += float(row[37])
with open(sys.argv[2], 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['key', 'tickets', 'feet'])
    for k, (n, s) in groups.items(): w.writerow([k, n, s])`));
    measure(`sluice groupBy by ${by}, memory '${memory}'`, node(`sluice-group-${by}`, memory));
    measure(`DuckDB by ${by}, default settings`, node(`duckdb-group-${by}`));
    measure(`DuckDB by ${by}, memory_limit ${memory}, 1 thread`, node(`duckdb-group-${by}`, memory));
  }
} else if (job === 'memory') {
  const report = measure(`sluice sort of generated rows, memory '${memory}'`, [process.execPath, bundle, `sluice-generated-sort=${memory}`, String(rows), '-']);
  if (report) console.log(report.trim());
} else {
  throw new Error(`unknown --job ${job}: sort, group-by or memory`);
}
rmSync(out, { force: true });
rmSync(`${out}.duckdb.tmp`, { recursive: true, force: true });
