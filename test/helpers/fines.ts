/** The fines-by-state example's expected output, computed without sluice. */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** fines-by-state computed independently: csv-parse, a plain object of fines, a loop. */
export function expectedFines(input: string, codes: string): string {
  const fines: Record<string, number> = {};
  for (const [code, fine] of (parse(readFileSync(codes)) as string[][]).slice(1)) fines[code!] = Number(fine);
  const [header, ...rows] = parse(readFileSync(input)) as string[][];
  const state = header!.indexOf('Registration State');
  const code = header!.indexOf('Violation Code');
  const totals = new Map<string, [number, number]>();
  for (const r of rows) {
    const t = totals.get(r[state]!) ?? [0, 0];
    t[0]++;
    t[1] += fines[r[code]!] ?? 0;
    totals.set(r[state]!, t);
  }
  const lines = [...totals].sort((a, b) => b[1][1] - a[1][1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([s, [n, f]]) => `${s},${n},${f}`);
  return ['registration_state,tickets,total_fine', ...lines].join('\n') + '\n';
}

