/**
 * `npx tsx examples/enrich-with-service.ts IN.csv OUT.csv [--batch-size N]`
 *
 * The parking CSV through a paid external service, one call per batch of rows: a local
 * "plate registry" started here (an HTTP server on 127.0.0.1 that adds one field per row,
 * charges per call whatever the batch size, answers in ~20 ms, allows 100 calls a second
 * and 4 at once, and is briefly overloaded now and then). Every row is written with the
 * added `registration_status`; rows the service refuses go to OUT.rejects.csv. The last
 * line printed is the JSON summary
 * `{"rows_in":…,"rows_out":…,"rejected":…,"calls":…,"batch_size":…,"retries":…}`.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { callService, csv, postJson, run, type ServiceMetrics, type Summary } from '../lib/index.js';
import type { Watch } from './parking.js';

/** What the registry says of a plate: a pure function of plate and state, so tests can check it. */
export function registrationStatus(plate: string, state: string): string {
  let h = 2166136261;
  for (const c of `${state}:${plate}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return ['valid', 'valid', 'valid', 'expired', 'suspended'][h % 5];
}

export interface Registry {
  readonly url: string;
  /** Calls charged (every call is, whatever its size), and the price. */
  readonly charged: { calls: number; dollars: number };
  close(): Promise<void>;
}

const PRICE_PER_CALL = 0.002;

/**
 * The paid service: POST a JSON array of `{ plate, state }`, get `{ results: [status, …] }`.
 * More than 4 calls at once, or 100 in a second, get 429; the first attempt of a batch
 * whose first plate hashes to "suspended" gets 503 (a brief overload), so retries show.
 */
export async function startRegistry(latencyMs = 20): Promise<Registry> {
  const charged = { calls: 0, dollars: 0 };
  const seen = new Set<string>();
  const recent: number[] = [];
  let active = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      charged.calls++;
      charged.dollars = Math.round(charged.calls * PRICE_PER_CALL * 1000) / 1000;
      const now = Date.now();
      while (recent.length > 0 && recent[0] <= now - 1000) recent.shift();
      recent.push(now);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (active >= 4 || recent.length > 100) {
        send(429, { error: 'slow down' }, { 'retry-after': '1' });
        return;
      }
      const rows = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { plate: string; state: string }[];
      const key = String(req.headers['idempotency-key']);
      const first = seen.has(key);
      seen.add(key);
      if (!first && rows.length > 0 && registrationStatus(rows[0].plate, rows[0].state) === 'suspended') {
        send(503, { error: 'overloaded, try again' }, { 'retry-after': '0' });
        return;
      }
      active++;
      const timer = setTimeout(() => {
        active--;
        send(200, { results: rows.map((r) => registrationStatus(r.plate, r.state)) });
      }, latencyMs);
      res.on('close', () => {
        if (!res.writableFinished) {
          clearTimeout(timer);
          active--;
        }
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/registrations`,
    charged,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface EnrichResult {
  summary: Summary;
  metrics: ServiceMetrics;
  batchSize: number;
  charged: { calls: number; dollars: number };
}

/** The pipeline: CSV in, a batched call per `batchSize` rows, CSV out with one more column. */
export async function enrichWithService(input: string, output: string, options: { batchSize?: number; watch?: Watch } = {}): Promise<EnrichResult> {
  const batchSize = options.batchSize ?? 500;
  const registry = await startRegistry();
  try {
    const source = csv.read(input);
    const registrations = callService(
      postJson<string[], string>(registry.url, { body: (rows) => rows.map((r) => ({ plate: r[1], state: r[2] })) }),
      {
        batchSize,
        concurrency: 4,
        rate: { calls: 100, per: 1_000, adaptive: true },
        retries: { attempts: 5, baseMs: 50 },
        timeoutMs: 10_000,
        onError: 'reject',
        merge: (row, status) => [...row, status],
      },
    );
    const summary = await run(
      source,
      registrations,
      csv.write(output, { headers: () => [...(source.headers ?? []), 'registration_status'] }),
      { rejects: csv.write(`${output}.rejects.csv`), ...options.watch },
    );
    return { summary, metrics: registrations.metrics, batchSize, charged: { ...registry.charged } };
  } finally {
    await registry.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const sizeAt = args.indexOf('--batch-size');
  const batchSize = sizeAt >= 0 ? Number(args.splice(sizeAt, 2)[1]) : undefined;
  const [input, output] = args;
  if (!input || !output) {
    console.error('usage: npx tsx examples/enrich-with-service.ts IN.csv OUT.csv [--batch-size N]');
    process.exitCode = 2;
  } else {
    try {
      const { summary, metrics, charged } = await enrichWithService(input, output, { batchSize });
      console.log(`service: ${charged.calls} calls charged ($${charged.dollars.toFixed(3)}), ${metrics.rowsPerCall.toFixed(1)} rows per call`);
      console.log(JSON.stringify({
        rows_in: summary.read, rows_out: summary.written, rejected: summary.rejected,
        calls: metrics.calls, batch_size: batchSize ?? 500, retries: metrics.retries,
      }));
    } catch (error) {
      console.error(`enrich-with-service: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
}
