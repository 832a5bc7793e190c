/**
 * `npx tsx bench/join.ts [--rows N]`: joins on the generated parking file, each contender in
 * its own process under /usr/bin/time (wall time and peak RSS), beside its baselines:
 * - lookup join: every ticket with its fine from a 90-row codes table — sluice `lookup` (a
 *   Map), a plain Map in a `map` stage, Python's dict;
 * - large join: tickets ⋈ payments (about 0.97 payments a ticket, some tickets paid twice,
 *   some payments for no ticket) on the summons number — sluice `hashJoin` with
 *   `memory: '64MB'` (a grace hash join), a plain Map of every payment, Python's dict;
 * - merge join: the same on both files sorted by summons number (sorted beforehand, untimed)
 *   — sluice `mergeJoin`.
 * Inputs and outputs are written under /tmp/join-data.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { csv, hashJoin, lookup, map, mergeJoin, run } from '../lib/index.js';
import { mulberry32, parkingRows, writeParkingCsv } from '../examples/sample-data.js';
import { readCodes, writeCodesCsv } from '../examples/fines.js';

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

const contender = arg('contender');
if (contender) {
  const [input, other, output] = [arg('in')!, arg('other')!, arg('out')!];
  const source = csv.read(input);
  const second = csv.read(other);
  // A header line as Python writes one: the tickets' columns, then the other side's but its key.
  const sink = (extra?: string[]) => csv.write(output, { headers: () => [...(source.headers ?? []), ...(extra ?? (second.headers ?? []).slice(1))] });
  const concat = (l: string[] | null, r: string[] | null) => [...l!, ...r!.slice(1)];
  switch (contender) {
    case 'lookup': {
      const codes = await readCodes(other);
      second.destroy();
      await run(source, lookup<string[], number, string[]>(codes, { on: 5, merge: (row, fine) => [...row!, fine === null ? '' : String(fine)] }), sink(['fine']));
      break;
    }
    case 'lookup-map': {
      const codes = await readCodes(other);
      second.destroy();
      await run(source, map((row: string[]) => [...row, String(codes.get(row[5]!) ?? '')]), sink(['fine']));
      break;
    }
    case 'hash':
      await run(source, hashJoin<string[], string[], string[]>(second, { on: 0, memory: '64MB', merge: concat }), sink());
      break;
    case 'hash-map': {
      const table = new Map<string, string[][]>();
      for await (const row of second) {
        const r = row as string[];
        const list = table.get(r[0]!);
        if (list) list.push(r);
        else table.set(r[0]!, [r]);
      }
      const { many } = await import('stream-chain');
      await run(source, (row: string[]) => many((table.get(row[0]!) ?? []).map((p) => [...row, ...p.slice(1)])), sink());
      break;
    }
    case 'merge':
      await run(source, mergeJoin<string[], string[], string[]>(second, { on: 0, merge: concat }), sink());
      break;
  }
} else {
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
  const measure = (name: string, argv: string[]) => {
    const child = spawnSync('/usr/bin/time', ['-f', '%e %M', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr.toString()}`);
    const [seconds, kb] = child.stderr.toString().trim().split('\n').pop()!.split(' ').map(Number);
    const lines = spawnSync('wc', ['-l', out]).stdout.toString().split(' ')[0];
    console.log(`${name.padEnd(40)} ${seconds!.toFixed(2).padStart(7)} s   peak RSS ${(kb! / 1024).toFixed(0).padStart(5)} MB   ${Number(lines) - 1} rows out`);
  };
  const self = (c: string, input: string, other: string) => [process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, '--contender', c, '--in', input, '--other', other, '--out', out];
  const python = (mode: string, input: string, other: string) => ['python3', new URL('python/join.py', import.meta.url).pathname, mode, input, other, out];
  console.log(`lookup join: ${rows} tickets with their fine from a codes table`);
  measure('sluice lookup (Map table)', self('lookup', tickets, codes));
  measure('plain Node: Map in a map() stage', self('lookup-map', tickets, codes));
  measure('Python dict', python('lookup', tickets, codes));
  console.log(`large join: ${rows} tickets ⋈ payments on the summons number`);
  measure("sluice hashJoin, memory '64MB'", self('hash', tickets, payments));
  measure('plain Node: Map of every payment', self('hash-map', tickets, payments));
  measure('Python dict', python('hash', tickets, payments));
  const [st, sp] = [sorted(tickets), sorted(payments)];
  console.log('merge join: the same, both files sorted by summons number');
  measure('sluice mergeJoin', self('merge', st, sp));
  rmSync(out, { force: true });
}
