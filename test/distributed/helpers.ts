/** The distributed tests' helpers: sample data, worker processes, engine wrappers, whether BullMQ can run. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { QueueEngine } from '../../lib/index.js';

/** The engine, with some of its methods replaced (the others called on it, so its state stays its own). */
export function delegate(engine: QueueEngine, overrides: Partial<QueueEngine>): QueueEngine {
  const methods = ['open', 'add', 'waiting', 'unfinished', 'setPlanned', 'planned', 'take', 'close'] as const;
  const bound = Object.fromEntries(methods.map((m) => [m, (engine[m] as (...a: unknown[]) => unknown).bind(engine)]));
  return { kind: engine.kind, ...bound, ...overrides } as QueueEngine;
}

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers PING at REDIS_URL within half a second. */
function redisAnswers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH')));
  });
}

/** Why the BullMQ suites cannot run here (no Redis answers), or null when they can. */
export async function bullmqUnavailable(): Promise<string | null> {
  if (!(await redisAnswers(REDIS_URL))) return `no Redis answers at ${new URL(REDIS_URL).host} (set REDIS_URL)`;
  return null;
}

export const WORKER = new URL('./fixtures/load-worker.ts', import.meta.url).pathname;

/** Writes `rows` CSV rows (id, plate, state, fine) and returns the file. */
export async function sampleCsv(file: string, rows: number): Promise<string> {
  const states = ['NY', 'NJ', 'CT', 'PA'];
  const lines = ['id,plate,state,fine'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},P${(i * 7919) % 100000},${states[i % 4]},${(i % 9) * 5 + 10}`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The worker's summary (its last stdout line), when it finished. */
  summary: { rows: number; attempts: number; failed: number; redelivered: { split: string; attempt: number; skipped: boolean }[] } | null;
}

/** Starts a worker process and resolves once it has exited (by itself or by a signal). */
export async function runWorker(env: Record<string, string>): Promise<WorkerExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  const last = stdout.trim().split('\n').pop() ?? '';
  return { code, signal, stdout, stderr, summary: code === 0 && last.startsWith('{') ? JSON.parse(last) : null };
}
