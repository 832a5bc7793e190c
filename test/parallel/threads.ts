/** Worker-thread accounting and waits for the parallel suites: threads start and answer in their own time. */
const workerThreads = (): number => (process.report.getReport() as unknown as { workers: unknown[] }).workers.length;
/** Worker threads beyond those of the test runner itself (tsx's module hooks run in one). */
let baseline = 0;

/** Takes the runner's own threads as the baseline (call in `before`). */
export function countBaseline(): void {
  baseline = workerThreads();
}

export const liveWorkers = (): number => workerThreads() - baseline;

/**
 * Waits until `predicate` holds, checking every millisecond: threads start and answer in
 * their own time (tens of ms under load), longer than `until`'s turns of the event loop.
 */
export async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Waits until `probe` has not changed for `ms` milliseconds; returns its value. */
export async function stable<T>(probe: () => T, ms = 300): Promise<T> {
  let last = probe();
  let since = Date.now();
  while (Date.now() - since < ms) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const now = probe();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}
