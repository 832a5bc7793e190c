/**
 * `npx tsx bench/join.ts [--rows N] [--only lookup|hash|merge]`: joins on generated parking
 * rows (default 500,000; the documented numbers are of 1,000,000), each contender once in its
 * own process under /usr/bin/time (wall time and rows/s, CPU time, peak RSS), the Node ones
 * bundled to plain JavaScript (bench/join-jobs.ts), beside their baselines:
 * - lookup join: every ticket with its fine from a 90-row codes table — Python's dict, sluice
 *   `lookup` (a Map), a plain Map in a `map` stage, and csv.read → csv.write alone (the floor
 *   every contender pays: reading and writing 44 columns);
 * - large join: tickets ⋈ payments (about 0.97 payments a ticket, some tickets paid twice,
 *   some payments for no ticket) on the summons number — Python's dict, sluice `hashJoin`
 *   with `memory: '64MB'` (a grace hash join: it spills; also with the default output, whose
 *   tickets pass as their text), a plain Map of every payment;
 * - merge join: the same on both files sorted by summons number (sorted beforehand, untimed)
 *   — Python's dict on those files, sluice `mergeJoin` (also with the default output).
 * Ratios are of CPU time to the section's Python line (wall time swings with the machine's
 * load). Inputs and outputs are written under /tmp/join-data.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { mulberry32, parkingRows, writeParkingCsv } from '../examples/sample-data.js';
import { writeCodesCsv } from '../examples/fines.js';
import { contenderEnv, contenderEnvNote } from './contender-env.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const PAYMENT_HEADER = ['summons_number', 'amount_paid', 'payment_date', 'payment_method'];

/** Payments for the tickets of `rows` rows of seed 1: one for most, two for some, plus strays. */
async function writePayments(path: string, rows: number): Promise<void> {
  const rng = mulberry32(99);
  const out = createWriteStream(path);
  let lines = [PAYMENT_HEADER.join(',')];
  const payment = (summons: string) => `${summons},${(rng() * 200).toFixed(2)},2018-0${1 + Math.floor(rng() * 9)}-1${Math.floor(rng() * 9)},${rng() < 0.6 ? 'card' : 'check'}`;
  for (const row of parkingRows({ rows, seed: 1 })) {
    const r = rng();
    if (r < 0.92) lines.push(payment(row[0]!));
    else if (r < 0.945) lines.push(payment(row[0]!), payment(row[0]!));
    if (rng() < 0.02) lines.push(payment(String(1_000_000_000 + Math.floor(rng() * 8_999_999_999))));
    if (lines.length >= 10_000) {
      if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
      lines = [];
    }
  }
  out.end(lines.length > 0 ? lines.join('\n') + '\n' : '');
  await once(out, 'finish');
}

const rows = Number(arg('rows') ?? 500_000);
const dir = '/tmp/join-data';
mkdirSync(dir, { recursive: true });
const tickets = join(dir, `tickets-${rows}.csv`);
const payments = join(dir, `payments-${rows}.csv`);
const codes = join(dir, 'codes.csv');
if (!existsSync(tickets)) await writeParkingCsv(tickets, { rows, seed: 1 });
if (!existsSync(payments)) await writePayments(payments, rows);
await writeCodesCsv(codes);
const sorted = (file: string) => {
  const to = file.replace(/\.csv$/, '.sorted.csv');
  if (!existsSync(to)) spawnSync('sh', ['-c', `(head -n 1 ${file}; tail -n +2 ${file} | LC_ALL=C sort -t, -k1,1 -S 64M) > ${to}`]);
  return to;
};
const out = join(dir, 'joined.csv');
// The contenders as plain JavaScript (as bench/index.ts and bench/sort.ts run them), bundled
// into the git-ignored tmp/ with the WebAssembly CSV kernel beside the bundle.
const root = new URL('..', import.meta.url).pathname;
const bundle = join(root, 'tmp/bench/join/join-jobs.mjs');
execFileSync(join(root, 'node_modules/.bin/esbuild'), [join(root, 'bench/join-jobs.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${bundle}`, '--log-level=warning']);
mkdirSync(join(dirname(bundle), 'wasm'), { recursive: true });
copyFileSync(join(root, 'lib/csv/wasm/csv-scan.wasm'), join(dirname(bundle), 'wasm/csv-scan.wasm'));

let python = 0;
/** Runs one contender; prints wall time, CPU time (user + sys: steadier than wall on a loaded machine), peak RSS, rows out, and both ratios to the Python line of its section. */
const measure = (name: string, argv: string[]) => {
  const child = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', ...argv], { env: contenderEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr.toString()}`);
  const [seconds, kb, user, sys] = child.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  const cpu = user + sys;
  if (name.startsWith('Python')) python = cpu;
  const lines = spawnSync('wc', ['-l', out]).stdout.toString().split(' ')[0];
  const ratio = python > 0 && !name.startsWith('Python') ? `${(cpu / python).toFixed(2)}× Python (CPU)` : '';
  console.log(`${name.padEnd(40)} ${seconds.toFixed(2).padStart(7)} s ${Math.round(rows / seconds).toLocaleString('en-US').padStart(9)} rows/s  CPU ${cpu.toFixed(2).padStart(6)} s   peak RSS ${(kb / 1024).toFixed(0).padStart(5)} MB   ${String(Number(lines) - 1).padStart(8)} rows out   ${ratio}`);
};
const node = (job: string, input: string, other: string) => [process.execPath, bundle, job, input, other, out];
const py = (mode: string, input: string, other: string) => ['python3', new URL('python/join.py', import.meta.url).pathname, mode, input, other, out];
const only = arg('only');
console.log(`${rows} tickets; each contender once, in its own process (${loadavg().map((l) => l.toFixed(1)).join(' ')} load average)`);
if (contenderEnvNote) console.log(`(${contenderEnvNote})`);
/** A section: what it joins, Python's mode, the two input files, and the Node contenders (name, job). */
type Section = [title: string, mode: string, files: () => [string, string], contenders: [string, string][]];
const sections: Record<string, Section> = {
  lookup: ['lookup join: each ticket with its fine from a codes table', 'lookup', () => [tickets, codes], [
    ['sluice lookup (Map table)', 'lookup'], ['plain Node: Map in a map() stage', 'lookup-map'], ['plain Node: csv.read → csv.write only', 'floor'],
  ]],
  hash: ['large join: tickets ⋈ payments on the summons number', 'hash', () => [tickets, payments], [
    ["sluice hashJoin, memory '64MB'", 'hash'], ["sluice hashJoin '64MB', default output", 'hash-text'], ['plain Node: Map of every payment', 'hash-map'],
  ]],
  merge: ['merge join: the same, both files sorted by summons number (ratio to the dict join of the sorted files)', 'hash', () => [sorted(tickets), sorted(payments)], [
    ['sluice mergeJoin', 'merge'], ['sluice mergeJoin, default output', 'merge-text'],
  ]],
};
for (const [name, [title, mode, files, contenders]] of Object.entries(sections)) {
  if (only && only !== name) continue;
  const [input, other] = files();
  console.log(title);
  // Python first: the section's ratios are to it.
  python = 0;
  measure('Python dict', py(mode, input, other));
  for (const [contender, job] of contenders) measure(contender, node(job, input, other));
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
rmSync(out, { force: true });
