/**
 * parallel.csv's task on a worker: reads one byte range of a CSV file with csv.split's
 * reader (the rows csv.read would give, with their real file lines), runs each row through
 * the user's function as it is parsed, and answers with the results only — the rows
 * themselves never cross to the main thread (a failed row does, for its reject).
 */
import { csv, CsvError } from '../csv/index.js';
import { originOf } from '../core/origin.js';
import { pack } from './packing.js';
import type { ParseFailure, RangeFailure, RangeResult, RangeTask } from './protocol.js';
import { failure, isThenable, rowFunction } from './worker-function.js';

const now = (): number => performance.timeOrigin + performance.now();

function parseFailure(error: unknown, file: string): ParseFailure {
  if (error instanceof CsvError) {
    // CsvError's message is `source, line N[, column C]: reason`; the main thread rebuilds it from the parts.
    const prefix = `${error.source}, line ${error.line}${error.column === undefined ? '' : `, column ${error.column}`}: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { source: error.source, line: error.line, ...(error.column === undefined ? {} : { column: error.column }), reason };
  }
  return { source: file, line: 0, reason: error instanceof Error ? error.message : String(error) };
}

export async function runRange(task: RangeTask): Promise<RangeResult> {
  const fn = await rowFunction();
  // The range's timeout counts from here: loading the module (a worker's first task) is not the range's run.
  if (task.started) Atomics.store(task.started, 0, BigInt(Math.round(now() * 1000)));
  if (typeof fn === 'string') return { outputs: pack([]).packed, lines: [], failures: [], headers: null, fnMs: 0, loadError: fn };
  const source = csv.split(task.split.file, task.options).open(task.split);
  const outputs: unknown[] = [];
  const lines: number[] = [];
  const failures: RangeFailure[] = [];
  // Aborted when the rest of the range is abandoned (a row failed and the stage will fail).
  const controller = new AbortController();
  let fnMs = 0;
  let parseError: ParseFailure | undefined;
  try {
    for await (const row of source) {
      const line = originOf(row)?.line ?? 0;
      lines.push(line);
      const started = performance.now();
      try {
        // `index` is the row's file line: its number within the file is not known here.
        let out = fn(row, { index: line, signal: controller.signal });
        if (isThenable(out)) out = await out;
        if (out === null || out === undefined) throw new TypeError(`returned ${out}`);
        outputs.push(out);
      } catch (error) {
        failures.push({ ...failure(outputs.length, error), row });
        outputs.push(null);
        if (task.stopAtFailure) {
          controller.abort(error);
          break;
        }
      } finally {
        fnMs += performance.now() - started;
      }
    }
  } catch (error) {
    parseError = parseFailure(error, task.split.file);
  } finally {
    source.destroy();
  }
  return { outputs: pack(outputs).packed, lines, failures, headers: source.headers ? [...source.headers] : null, fnMs, ...(parseError ? { parseError } : {}) };
}
