/**
 * Generated CSV files for the differential tests of rows passed through as text
 * (test/pipeline/fuse-text-rows.test.ts, test/join/text-rows.test.ts): mostly rows of four
 * fields (the header's width), some ragged; quotes, LF/CRLF/CR, multi-byte UTF-8, a
 * byte-order mark, whitespace at field edges, `|`; with or without a final line break.
 */
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { csv, run, type CsvReadOptions, type CsvRow, type CsvWriteOptions, type Reject, type Stage } from '../../lib/index.js';
import { WasmRows } from '../../lib/csv/wasm-rows.js';
import { textRowFusion } from '../../lib/pipeline/fuse-text-rows.js';

const unit = fc.constantFrom('a', 'b', '1', ' ', '\t', '|', 'é', '€', '😀', '\u00a0', ',', '"', '\r', '\n');
const plain = fc.string({ unit: unit.filter((c) => !',"\r\n'.includes(c)), maxLength: 5 });
const quoted = fc.string({ unit, maxLength: 5 }).map((s) => `"${s.replaceAll('"', '""')}"`);
const field = fc.oneof({ arbitrary: plain, weight: 12 }, { arbitrary: quoted, weight: 1 });
/** Mostly four fields a row (the header's width), some ragged. */
const line = fc.tuple(fc.array(field, { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom('\n', '\n', '\r\n', '\r'));

export const textDocument = fc
  .tuple(fc.boolean(), fc.array(line, { minLength: 1, maxLength: 60 }), fc.boolean())
  .map(([bom, lines, finalBreak]) => {
    const text = lines.map(([fields, ragged, eol]) => (ragged === 0 ? fields.slice(0, 3) : ragged === 1 ? [...fields, 'x'] : fields).join(',') + eol).join('');
    const last = lines[lines.length - 1][2];
    return Buffer.from((bom ? '\uFEFF' : '') + (finalBreak ? text : text.slice(0, text.length - last.length)));
  });

/** Chunk sizes: the JS scanner reads the header's chunk; the WebAssembly reader, which makes text rows, the ones after it. */
export const chunkSize = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 256 }));

/** Counts the TextRows the WebAssembly reader makes while `body` runs. */
export async function countingTextRows(body: () => Promise<void>): Promise<number> {
  let count = 0;
  const made = WasmRows.prototype as unknown as { textRow: (...args: unknown[]) => unknown };
  const textRow = made.textRow;
  made.textRow = function (this: unknown, ...args: unknown[]) {
    count++;
    return textRow.apply(this, args);
  };
  try {
    await body();
  } finally {
    made.textRow = textRow;
  }
  return count;
}

/** What a pipeline did: the file written, the summary, rejects, the stage's metrics (when it succeeded), or its error. */
export interface TextOutcome {
  text: string | null;
  summary: unknown;
  rejects: unknown[];
  metrics: unknown;
  error: string | null;
}

/** Runs csv.read(`input`) → `stage` → csv.write(`output`), fused (where it fuses) when `fused`. */
export async function textOutcome(input: string, output: string, read: CsvReadOptions, write: CsvWriteOptions, stage: Stage<string[], unknown>, fused: boolean, metrics: () => unknown = () => null): Promise<TextOutcome> {
  const rejects: Reject[] = [];
  textRowFusion.enabled = fused;
  try {
    const { ms: _ms, ...summary } = await run(csv.read(input, read), stage as Stage<string[], CsvRow>, csv.write(output, write), { rejects: (r: Reject) => void rejects.push(r) });
    const rejected = rejects.map(({ reason, row, index, origin }) => ({ reason, row, index, origin: { ...origin } }));
    return { text: await readFile(output, 'utf8'), summary, rejects: rejected, metrics: metrics(), error: null };
  } catch (error) {
    // (How many rows the stage took before the pipeline was torn down is a matter of timing, fused or not.)
    return { text: null, summary: null, rejects: [], metrics: null, error: (error as Error).message.replaceAll(output, 'OUT') };
  } finally {
    textRowFusion.enabled = true;
  }
}
