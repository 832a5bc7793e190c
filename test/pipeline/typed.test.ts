/**
 * Row types flow through `run()` and `pipe()`: this file is checked by `tsc -p
 * tsconfig.test.json` (part of `npm test`). Each `@ts-expect-error` proves a mismatch IS a
 * type error (an unused one fails the check); the functions holding them are never called.
 */
import { expect } from 'chai';
import { createReadStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chain } from 'stream-chain';
import { batch, callService, csv, filter, flatten, itemFailed, map, pipe, postgres, postJson, run, select, take, tap, type Stage } from '../../lib/index.js';
import { collector } from '../helpers/csv.js';

declare const numbers: Stage<number, number>;
declare const strings: Stage<string, string>;
declare const anything: Stage<unknown, string>;

/** Type-level checks only: building the pipelines would open files. */
export function typeChecks(): void {
  // csv.read → select → filter → map → csv.write, every stage typed from the one before.
  void run(
    csv.read('in.csv'),
    select([2, 7]), // string[] → string[]
    filter(([state]) => state === 'NJ'),
    map(([state, make]) => ({ state, make: make.toLowerCase() })),
    csv.write('out.csv'),
  );
  // An array source → map → batch → flatten: pipe() yields the last stage's rows.
  const items: AsyncIterable<string> = pipe([1, 2, 3], map((n) => n * 2), batch(2), flatten(), (n) => `#${n.toFixed(0)}`);
  void items;
  // Generator functions and async iterables as sources give their element type.
  void run(function* () {
    yield 1;
  }, numbers);
  void run((async function* () {
    yield 'a';
  })(), strings);
  // A stage accepting unknown fits after anything; untyped streams (stream-chain, your own
  // Transforms and Writables) fit anywhere, and what follows them is not checked.
  void run([1, 2], anything, strings, new Transform({ objectMode: true }), numbers, new Writable({ objectMode: true }));
  void run([1, 2], chain([(x: number) => x + 1]), strings);
  // Plain functions are typed, sync or async.
  void run([1, 2], (n) => String(n), async (s) => s.length, numbers);
  // postgres.query: object rows by default, arrays with rowMode 'array'.
  void run(postgres.query('postgres://', 'SELECT 1'), filter((row) => row.id === 1));
  void run(postgres.query('postgres://', 'SELECT 1', [], { rowMode: 'array' }), select([0]), take(1));

  // Mismatches are errors.
  // @ts-expect-error a Stage<string, string> after a source of numbers
  void run([1, 2, 3], strings);
  // @ts-expect-error a Stage<number, number> after a stage giving strings
  void run([1, 2, 3], map((n: number) => String(n)), numbers);
  // @ts-expect-error a plain function taking strings after rows of numbers
  void run([1, 2, 3], (s: string) => s.length);
  // @ts-expect-error select by index needs array rows
  void run([{ a: 1 }], select([0]));
  // @ts-expect-error select by name needs the names in the row type
  void run([{ a: 1 }], select(['b']));
  // @ts-expect-error csv.write needs arrays or objects, not numbers
  void run([1, 2, 3], csv.write('out.csv'));
  // @ts-expect-error flatten needs array rows
  void pipe([1, 2, 3], flatten());
  // @ts-expect-error a mismatch deep in a chain of functions
  void pipe(['a'], (s) => s.length, (n) => n + 1, tap((s: string) => s));
  // Node's own stream.pipeline takes sluice stages as they are (no casts), source first
  // included, while iterating a stage still yields its rows.
  void pipeline(csv.read('in.csv'), filter((row: string[]) => row[0] === 'NJ'), map((row: string[]) => [row[1]!]), csv.write('out.csv'));
  void pipeline(csv.read('in.csv'), new Transform({ objectMode: true }), csv.write('out.csv'));
  void pipeline(createReadStream('in.csv'), csv.parse(), take(10), new Writable({ objectMode: true }));
  void (async () => {
    for await (const row of csv.read('in.csv')) {
      const fields: string[] = row;
      // @ts-expect-error a stage's rows keep their type in for await
      const wrong: number = row;
      void [fields, wrong];
    }
  });
}

/** A service function may put itemFailed() in a row's place; the result type stays the rows' own. */
export function serviceChecks(): void {
  type Owner = { owner: string; error?: string }; // a result type with an `error` field of its own
  const lookup = async (rows: { plate: string }[]) => rows.map((r): Owner | ReturnType<typeof itemFailed> => (r.plate ? { owner: 'x' } : itemFailed('no plate')));
  const stage = callService(lookup, { merge: (row, result) => ({ ...row, owner: result.owner }) });
  const owned: Stage<{ plate: string }, { plate: string; owner: string }> = stage;
  void owned;
  // Unannotated, as most will write it.
  const scored: Stage<number, { score: number }> = callService(async (rows: number[]) => rows.map((n) => (n > 0 ? { score: n } : itemFailed('negative'))));
  void scored;
  // Without merge, the rows out are the results, never markers.
  const plain: Stage<{ plate: string }, Owner> = callService(lookup);
  void plain;
  void callService(postJson<{ plate: string }, Owner>('http://127.0.0.1/', {
    results: (body) => (body as Owner[]).map((r) => (r.error ? itemFailed(r.error, { status: 422 }) : r)),
  }), { merge: (row, result) => ({ ...row, owner: result.owner }) });
  // The result type is inferred (not unknown): its `owner` is a string.
  // @ts-expect-error a string is not a number
  void callService(lookup, { merge: (_row, result): number => result.owner });
}

/** `for await` over pipe() gives the last stage's row type. */
export async function iterationChecks(): Promise<void> {
  for await (const n of pipe([1, 2, 3], map((n) => n * 2))) {
    // @ts-expect-error the rows are numbers, not strings
    const wrong: string = n;
    void wrong;
  }
}

describe('typed run() and pipe()', () => {
  it('a typed chain runs as it type-checks (array → map → batch → flatten)', async () => {
    const sink = collector<string>();
    const summary = await run([1, 2, 3, 4, 5], map((n) => n * 10), batch(2), flatten(), (n) => `#${n}`, sink);
    expect(sink.rows).to.deep.equal(['#10', '#20', '#30', '#40', '#50']);
    expect(summary.written).to.equal(5);
  });

  it('pipe() yields the typed rows of its last stage', async () => {
    const rows: number[] = [];
    for await (const n of pipe(['a', 'bb', 'ccc'], (s) => s.length, filter((n) => n > 1))) rows.push(n);
    expect(rows).to.deep.equal([2, 3]);
  });
});
