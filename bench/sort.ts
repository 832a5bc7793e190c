/**
 * `npx tsx bench/sort.ts [--rows N]`: sorts the generated parking file by vehicle make, then
 * summons number, three ways, each in its own process under /usr/bin/time (wall time and peak
 * RSS): sluice `sort` with `memory: '64MB'` (csv.read → sort → csv.write), the same with
 * `Array.sort` over every row in memory, and GNU `sort -S 64M` on the raw lines (not
 * CSV-aware, header included: the floor).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { csv, run, sort } from '../lib/index.js';
import { writeParkingCsv } from '../examples/sample-data.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const byString = (a: string[], b: string[]) => (a[7]! < b[7]! ? -1 : a[7]! > b[7]! ? 1 : a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0);

const contender = arg('contender');
if (contender) {
  const [input, output] = [arg('in')!, arg('out')!];
  if (contender === 'sluice') {
    const source = csv.read(input);
    await run(source, sort<string[]>([7, 0], { memory: '64MB' }), csv.write(output, { headers: () => source.headers ?? [] }));
  } else {
    const rows: string[][] = [];
    const source = csv.read(input);
    for await (const row of source) rows.push(row as string[]);
    rows.sort(byString);
    const { Readable } = await import('node:stream');
    await run(Readable.from(rows), csv.write(output, { headers: source.headers ?? [] }));
  }
} else {
  const rows = Number(arg('rows') ?? 1_000_000);
  const root = new URL('..', import.meta.url).pathname;
  mkdirSync(join(root, 'data'), { recursive: true });
  const input = join(root, 'data', `bench-${rows}.csv`);
  if (!existsSync(input)) await writeParkingCsv(input, { rows, seed: 1 });
  const out = join(root, 'data', 'sorted.csv');
  const measure = (name: string, argv: string[], env: NodeJS.ProcessEnv = process.env) => {
    const child = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr.toString()}`);
    const report = child.stderr.toString().trim().split('\n').pop()!;
    const [seconds, kb] = report.split(' ').map(Number);
    console.log(`${name.padEnd(36)} ${seconds!.toFixed(2).padStart(7)} s   peak RSS ${(kb! / 1024).toFixed(0).padStart(5)} MB`);
  };
  const self = [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname];
  console.log(`sort ${rows} parking rows by make, then summons number`);
  measure("sluice sort, memory '64MB'", [...self, '--contender', 'sluice', '--in', input, '--out', out]);
  measure('sluice csv.read + Array.sort', [...self, '--contender', 'array', '--in', input, '--out', out]);
  measure('GNU sort -S 64M (lines, a floor)', ['sort', '-S', '64M', '-t,', '-k8,8', '-k1,1', '-o', out, input], { ...process.env, LC_ALL: 'C' });
  rmSync(out, { force: true });
}
