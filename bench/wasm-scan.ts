/**
 * `npx tsx bench/wasm-scan.ts [--rows N]`: scan-only throughput of the WebAssembly boundary
 * kernel (lib/csv/wasm-scanner.ts), alone and with field decoding (lib/csv/wasm-rows.ts), beside the JS scanner (lib/csv/scanner.ts, called the way
 * csv.parse calls it: 64 KiB chunks decoded — Latin-1 when ASCII — and appended to the
 * unfinished rest), on the generated parking file (/tmp/wasm-data by default, `--dir`).
 * Each contender runs once in its own process: wall and CPU seconds, MB/s, peak RSS, and a
 * checksum (rows, fields, NJ rows) that must agree between the contenders that decode.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import { CsvScanner } from '../lib/csv/scanner.js';
import { WasmCsvScanner } from '../lib/csv/wasm-scanner.js';
import { WasmRows, type WasmRowsResult } from '../lib/csv/wasm-rows.js';
import { writeParkingCsv } from '../examples/sample-data.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const CHUNK = 65_536;
/** nj-ford-police's fields: state, make, agency, issue date, expiration date. */
const COLUMNS = [2, 7, 8, 23, 24];
const dialect = { delimiter: ',', quote: '"', escape: '"' };

/** Calls `each(buffer, length)` for every chunk of the file (one buffer, refilled). */
function chunks(file: string, each: (buffer: Buffer, length: number) => void): void {
  const fd = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0;) each(buffer, n);
  closeSync(fd);
}

interface Tally { rows: number; fields: number; nj: number }

function jsScanner(file: string, projected: boolean): Tally {
  const scanner = new CsvScanner(dialect);
  const decoder = new StringDecoder('utf8') as StringDecoder & { lastNeed: number };
  const tally: Tally = { rows: 0, fields: 0, nj: 0 };
  const options = projected ? { columns: COLUMNS, countWidth: true } : { raw: true };
  const count = (rows: string[][], widths: number[] | null) => {
    tally.rows += rows.length;
    for (let i = 0; i < rows.length; i++) {
      tally.fields += widths ? widths[i] : rows[i].length;
      if (rows[i][projected ? 0 : 2] === 'NJ') tally.nj++;
    }
  };
  let rest = '';
  chunks(file, (buffer, n) => {
    const chunk = buffer.subarray(0, n);
    const text = decoder.lastNeed === 0 && isAscii(chunk) ? chunk.toString('latin1') : decoder.write(chunk);
    const result = scanner.scan(rest + text, true, options);
    count(result.rows, result.widths);
    rest = result.rest;
  });
  const last = scanner.scan(rest + decoder.end(), false, options);
  count(last.rows, last.widths);
  return tally;
}

/** Boundaries only: rows counted from the kernel's row ends, and with `visit` every entry read. */
function wasmBoundaries(file: string, visit: boolean): Tally {
  const scanner = WasmCsvScanner.create(dialect)!;
  const tally: Tally = { rows: 0, fields: 0, nj: -1 };
  const take = (result: number) => {
    if (result < 0) throw new Error('fallback: not expected in the parking data');
    tally.rows += scanner.rowCount;
    tally.fields += result - scanner.rowCount;
    if (!visit) return;
    const entries = scanner.entries;
    let ends = 0;
    for (let k = 0; k < result; k++) if (entries[k] < 0) ends++;
    if (ends !== scanner.rowCount) throw new Error('row ends disagree');
  };
  let end = 0;
  chunks(file, (buffer, n) => {
    take(scanner.scan(buffer, 0, n));
    end = n;
  });
  take(scanner.finish(end));
  return tally;
}

/** WasmRows (the kernel plus decoding of only the projected fields), fed like csv.parse would. */
function wasmRows(file: string, columns: readonly number[] | null): Tally {
  const reader = WasmRows.create(dialect, { columns })!;
  const tally: Tally = { rows: 0, fields: 0, nj: 0 };
  const count = (result: WasmRowsResult) => {
    if (result.fallback) throw new Error('fallback: not expected in the parking data');
    tally.rows += result.rows.length;
    for (let i = 0; i < result.rows.length; i++) {
      tally.fields += result.widths[i];
      if ((result.rows[i] as string[] | null)?.[columns ? 0 : 2] === 'NJ') tally.nj++; // (no TextRows: not asked for)
    }
  };
  chunks(file, (buffer, n) => count(reader.push(buffer.subarray(0, n))));
  count(reader.end());
  return tally;
}

const contenders: Record<string, (file: string) => Tally> = {
  'read only (64 KiB chunks)': (file) => {
    let bytes = 0;
    chunks(file, (_buffer, n) => (bytes += n));
    return { rows: 0, fields: 0, nj: bytes };
  },
  'JS scanner, all fields (raw: true)': (file) => jsScanner(file, false),
  'JS scanner, columns 2,7,8,23,24': (file) => jsScanner(file, true),
  'WASM kernel alone': (file) => wasmBoundaries(file, false),
  'WASM kernel, every entry read': (file) => wasmBoundaries(file, true),
  'WasmRows, all fields': (file) => wasmRows(file, null),
  'WasmRows, columns 2,7,8,23,24': (file) => wasmRows(file, COLUMNS),
};

const contender = arg('contender');
if (contender) {
  const file = arg('in')!;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const tally = contenders[contender](file);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ wall, cpu: (used.user + used.system) / 1e6, rss: process.resourceUsage().maxRSS / 1024, tally }));
} else {
  const rows = Number(arg('rows') ?? 1_000_000);
  const dir = arg('dir') ?? '/tmp/wasm-data';
  mkdirSync(dir, { recursive: true });
  const input = join(dir, `parking-${rows}.csv`);
  if (!existsSync(input)) await writeParkingCsv(input, { rows, seed: 7 });
  const mb = statSync(input).size / 1e6;
  console.log(`scan ${rows} parking rows (${mb.toFixed(0)} MB), one run each, shared CPU: noisy`);
  console.log(`${'contender'.padEnd(36)} ${'wall s'.padStart(7)} ${'cpu s'.padStart(7)} ${'MB/cpu s'.padStart(9)} ${'RSS MB'.padStart(7)}  rows / fields / NJ`);
  for (const name of Object.keys(contenders)) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--contender', name, '--in', input], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    const { wall, cpu, rss, tally } = JSON.parse(child.stdout.trim().split('\n').pop()!);
    console.log(`${name.padEnd(36)} ${wall.toFixed(3).padStart(7)} ${cpu.toFixed(3).padStart(7)} ${(mb / cpu).toFixed(0).padStart(9)} ${rss.toFixed(0).padStart(7)}  ${tally.rows} / ${tally.fields} / ${tally.nj}`);
  }
}
