/**
 * CPU time per thread of this process, for the benches whose wall times a shared machine
 * makes noisy: CPU milliseconds spent on the main thread and on every other thread (worker
 * threads, V8's and libuv's helpers) do not grow with other jobs' load the way wall time
 * does. Linux only (/proc/self/task); elsewhere `CpuMeter.stop()` returns null.
 *
 * A worker thread's counters vanish when it exits, so the meter samples every 50 ms and
 * keeps each thread's last reading: a thread's last < 50 ms may be missed.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Milliseconds per clock tick (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

function perThread(): Map<number, number> | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const cpu = new Map<number, number>();
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * TICK_MS);
  }
  return cpu;
}

export interface CpuSplit {
  /** CPU ms on the main thread, and on every other thread. */
  readonly main: number;
  readonly others: number;
}

export class CpuMeter {
  private readonly first = perThread();
  private readonly last = new Map<number, number>(this.first ?? []);
  private readonly timer = setInterval(() => this.sample(), 50);

  private sample(): void {
    for (const [tid, ms] of perThread() ?? []) this.last.set(tid, ms);
  }

  stop(): CpuSplit | null {
    clearInterval(this.timer);
    if (this.first === null) return null;
    this.sample();
    let [main, others] = [0, 0];
    for (const [tid, ms] of this.last) {
      const spent = ms - (this.first.get(tid) ?? 0);
      if (tid === process.pid) main = spent;
      else others += spent;
    }
    return { main, others };
  }
}

/** `main 3.6 + others 4.7 µs CPU a row` for `rows` rows. */
export function cpuPerRow(split: CpuSplit | null, rows: number): string {
  if (split === null) return '';
  const per = (ms: number) => ((ms * 1000) / rows).toFixed(1);
  return `CPU a row: main ${per(split.main)} + other threads ${per(split.others)} µs`;
}

/** Wall milliseconds and the CPU split of `fn`. */
export async function measure(fn: () => Promise<unknown>): Promise<{ ms: number; cpu: CpuSplit | null }> {
  const meter = new CpuMeter();
  const started = performance.now();
  await fn();
  const ms = performance.now() - started;
  return { ms, cpu: meter.stop() };
}
