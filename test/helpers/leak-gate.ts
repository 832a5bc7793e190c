/**
 * Root hooks for every test file (loaded by .mocharc.json):
 * - an unhandled rejection or uncaught exception during a test fails that test;
 * - at the end of the run, every handle (socket, server, file, timer, child process) and
 *   every worker thread must be gone. mocha runs without --exit, so a leaked handle would
 *   hang the run; instead the gate names what leaked, fails, and ends the process a few
 *   seconds later.
 */
import type { Context } from 'mocha';

const problems: unknown[] = [];
const record = (error: unknown) => problems.push(error);

/** What an idle Node process may keep: stdio. */
const IDLE = new Set(['TTYWrap', 'PipeWrap', 'FSReqCallback']);

/** Handles open when the run began (mocha's own hook timer among them): not leaks. */
let baseline: string[] = [];

/**
 * One entry a live worker thread: Node lists no handle for a Worker, but its diagnostic
 * report does (read only for the count).
 */
function workerThreads(): string[] {
  const report = process.report.getReport() as unknown as { workers: unknown[] };
  return report.workers.map(() => 'Worker thread');
}

function leftovers(): string[] {
  const expected = [...baseline];
  return [...process.getActiveResourcesInfo(), ...workerThreads()].filter((name) => {
    if (IDLE.has(name)) return false;
    const i = expected.indexOf(name);
    if (i === -1) return true;
    expected.splice(i, 1);
    return false;
  });
}

/**
 * What is left once closing sockets and files have had `ms` to finish (over a few turns of
 * the event loop). Timers alone get up to `timerMs` more, checked every 50 ms: a one-shot
 * timer that is about to fire (a library's pending timeout) is not a leak, while a leaked
 * interval or a long timer is still there at the end.
 */
async function settle(ms: number, timerMs: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  while (leftovers().length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  const timersOnly = () => leftovers().length > 0 && leftovers().every((name) => name === 'Timeout');
  const timerDeadline = Date.now() + timerMs;
  while (timersOnly() && Date.now() < timerDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 50)); // fired (so not counted) when checked
  }
  return leftovers();
}

export const mochaHooks = {
  beforeAll(): void {
    baseline = [...process.getActiveResourcesInfo(), ...workerThreads()];
    process.on('unhandledRejection', record);
    process.on('uncaughtExceptionMonitor', record);
  },
  afterEach(this: Context): void {
    if (problems.length === 0) return;
    const found = problems.splice(0);
    const first = found[0] instanceof Error ? found[0] : new Error(String(found[0]));
    throw new Error(`${found.length} unhandled rejection(s)/uncaught exception(s) during "${this.currentTest?.title}": ${first.message}`, { cause: first });
  },
  async afterAll(this: Context): Promise<void> {
    process.off('unhandledRejection', record);
    process.off('uncaughtExceptionMonitor', record);
    // mocha starts this hook's own timeout timer once the hook returns its promise: from the
    // first await on, that timer is running and is not a leak (before this, a gate that had to
    // wait for anything at all always ended up blaming mocha's timer, 8 s later).
    await null;
    const hook = this.runnable() as unknown as { timer?: NodeJS.Timeout };
    if (hook.timer?.hasRef()) baseline.push('Timeout');
    const leaked = await settle(2_000, 3_000);
    if (leaked.length === 0) return;
    process.exitCode = 1;
    // Unref'd: it fires only if the leak keeps the process alive.
    setTimeout(() => process.exit(1), 3_000).unref();
    throw new Error(`leaked handles after the run: ${leaked.join(', ')}`);
  },
};
