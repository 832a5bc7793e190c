/**
 * `npm run demo`: generates sample parking data (200,000 rows) if absent, runs the
 * pipelines with run()'s progress (a bar on a terminal, a line every 5 s otherwise), and prints rows in/out/rejected, rows/s and peak RSS —
 * for the batched service call also calls made, rows per call and retries; last, a load on
 * 3 worker processes through pg-boss with one of them SIGKILLed midway. The PostgreSQL part
 * also runs the fines-by-state job with its fines looked up in a table (fines-from-postgres).
 * `npm run demo -- --rows 1000000` for a bigger file.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '../lib/index.js';
import { progressPrinter } from './progress.js';
import { daysUntilExpirationPipeline, njFordPolice, type Watch } from './parking.js';
import { sortByMake, ticketsByState } from './sorting.js';
import { enrichWithService, type EnrichResult } from './enrich-with-service.js';
import { writeParkingCsv } from './sample-data.js';
import { finesByState, writeCodesCsv } from './fines.js';

const rowsArg = process.argv.indexOf('--rows');
const rows = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 200_000;
const dir = join(process.cwd(), 'data');
const input = join(dir, `parking-${rows}.csv`);
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

async function job(name: string, fn: (input: string, output: string, watch: Watch) => Promise<Summary>): Promise<void> {
  const output = join(dir, `${name}.csv`);
  console.log(`${name}: ${input} → ${output}`);
  const bar = progressPrinter();
  const rss = peakRss();
  try {
    const s = await fn(input, output, bar.options);
    bar.stop();
    const rate = Math.round(s.read / (s.ms / 1000));
    console.log(`  rows in ${s.read}, out ${s.written}, filtered ${s.filtered}, rejected ${s.rejected}; ` +
      `${(s.ms / 1000).toFixed(2)} s, ${rate.toLocaleString('en-US')} rows/s, peak RSS ${mb(rss.stop())}`);
  } catch (error) {
    bar.stop();
    rss.stop();
    throw error;
  }
}

/** Samples this process's RSS every 50 ms until `stop()`, which returns the peak. */
function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

mkdirSync(dir, { recursive: true });
if (!existsSync(input)) {
  console.log(`generating ${rows} rows of sample data → ${input}`);
  await writeParkingCsv(input, { rows, seed: 1 });
}
await job('nj-ford-police', njFordPolice);
await job('days-until-expiration', daysUntilExpirationPipeline);
await job('sort-by-make', (from, to, watch) => sortByMake(from, to, watch, '64MB'));
await job('tickets-by-state', ticketsByState);
// parallel.csv (examples/addresses.ts): a CPU-heavy address_key column, inline and on 2 worker threads that read their own ranges of the file.
const { normaliseAddresses } = await import('./addresses.js');
const took: Record<number, number> = {};
for (const threads of [0, 2]) {
  await job(`normalise-addresses-${threads}-threads`, async (from, to, watch) => {
    const summary = await normaliseAddresses(from, to, { threads, watch });
    took[threads] = summary.ms;
    return summary;
  });
}
console.log(`  parallel.csv: 2 threads ran ${(took[0] / took[2]).toFixed(2)}× as fast as inline (same output)`);
// Joins: a violation-codes table beside the sample data, looked up per ticket (examples/fines.ts).
const codes = join(dir, 'codes.csv');
await writeCodesCsv(codes);
await job('fines-by-state', (from, to, watch) => finesByState(from, codes, to, watch));
let service: EnrichResult | undefined;
await job('enrich-with-service', async (from, to, watch) => {
  service = await enrichWithService(from, to, { watch });
  return service.summary;
});
if (service) {
  const m = service.metrics;
  console.log(`  service: ${m.calls} calls made (${service.charged.calls} charged, $${service.charged.dollars.toFixed(3)}), ` +
    `${m.rowsPerCall.toFixed(1)} rows per call (batch size ${service.batchSize}), ${m.retries} retries, ${m.throttled} throttled`);
}
// PostgreSQL: load the same file into a table and read it back (examples/postgres-demo.ts).
const { postgresDemo } = await import('./postgres-demo.js');
await postgresDemo(input, dir);
// Past one machine: the same kind of load on worker processes through pg-boss, one SIGKILLed midway (examples/distributed-load.ts).
const { distributedDemo } = await import('./distributed-demo.js');
await distributedDemo(dir);
