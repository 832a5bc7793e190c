/**
 * The user's row function as a worker loads it (once per worker, for every task it runs;
 * the main thread too, for parallel.map's `mainThread`), and the pieces every task shares: how a row's throw is recorded, and whether a result
 * must be awaited.
 */
import { workerData } from 'node:worker_threads';
import type { RowFailure, WorkerSetup } from './protocol.js';

export type RowFunction = (row: unknown, context: { index: number; signal: AbortSignal }) => unknown;

// A real `import()` in both builds: the CommonJS build would otherwise turn it into `require`,
// which cannot load an ES module by URL.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

let loaded: Promise<RowFunction | string> | undefined;

/** Loads the row function of `setup` (on a worker, or on the main thread for `mainThread`), or says why it could not. */
export async function loadRowFunction({ module, exportName, tsxHooks }: WorkerSetup): Promise<RowFunction | string> {
  let exports: Record<string, unknown>;
  try {
    if (tsxHooks !== undefined) ((await importModule(tsxHooks)) as { register(): void }).register();
    exports = await importModule(module);
  } catch (error) {
    return `cannot load ${module}: ${error instanceof Error ? error.message : String(error)}`;
  }
  const fn = exports[exportName];
  if (typeof fn !== 'function') return `${module} has no function export \`${exportName}\` (found ${typeof fn})`;
  return fn as RowFunction;
}

/** The worker's row function, or why it could not be loaded. */
export function rowFunction(): Promise<RowFunction | string> {
  loaded ??= loadRowFunction(workerData as WorkerSetup);
  return loaded;
}

export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

export function failure(at: number, error: unknown): RowFailure {
  if (error instanceof Error) return { at, name: error.name, message: error.message, stack: error.stack };
  return { at, name: 'Error', message: String(error) };
}
