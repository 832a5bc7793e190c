/**
 * The demo's progress display, from `run(…, { progress })`: on a terminal a bar redrawn
 * every 100 ms; otherwise (CI, a log file) one line every 5 seconds. The share and ETA come
 * from the source's size in bytes (a file), else from `rowsTotal` when the caller knows it,
 * else from the source's own estimate (`postgres.query`: the planner's).
 */
import type { Progress, RunOptions } from '../lib/index.js';

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export interface ProgressPrinter {
  /** For `run(…, options)`. */
  options: Pick<RunOptions, 'progress' | 'progressMs'>;
  /** Ends the bar's line (on a terminal). */
  stop: () => void;
}

export function progressPrinter(rowsTotal?: number): ProgressPrinter {
  const tty = process.stderr.isTTY === true;
  let drawn = false;
  const line = (p: Progress): string => {
    const rows = rowsTotal ?? p.rowsEstimate;
    const share = p.bytesTotal ? (p.bytesRead ?? 0) / p.bytesTotal : rows ? Math.min(1, p.read / rows) : undefined;
    const eta = p.etaMs ?? (share && share > 0 ? (p.elapsedMs / share) * (1 - share) : undefined);
    const bar = share === undefined ? '' : tty ? `[${'#'.repeat(Math.round(share * 30)).padEnd(30, '.')}] ` : '';
    const percent = share === undefined ? '' : `${(share * 100).toFixed(0).padStart(3)}%  `;
    const bytes = p.bytesTotal ? `${mb(p.bytesRead ?? 0)} of ${mb(p.bytesTotal)}, ` : '';
    return `  ${bar}${percent}${bytes}${p.read.toLocaleString('en-US')} rows read, ${p.written.toLocaleString('en-US')} written, ` +
      `${p.rejected} rejected, ${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s, ${seconds(p.elapsedMs)}` +
      (eta === undefined || p.done ? '' : `, ETA ${seconds(eta)}`);
  };
  return {
    options: { progressMs: tty ? 100 : 5_000, progress: (p) => {
      if (tty) {
        process.stderr.write(`\r${line(p)}\u001b[K`);
        drawn = true;
      } else if (!p.done) {
        console.error(line(p));
      }
    } },
    stop: () => {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}
