/**
 * `node bench/… JOB IN OTHER OUT`: one contender of bench/join.ts in its own process (bundled
 * to plain JavaScript there, so the timing and memory are the library's, not tsx's). IN is
 * the tickets file; OTHER the codes table (lookup jobs) or the payments file (the others).
 * - `floor`: csv.read → csv.write, no join (what reading and writing the tickets alone cost).
 * - `lookup`: sluice `lookup` of each ticket's fine in a Map (rows pass as text); `lookup-map`: a Map in a `map`.
 * - `hash`: sluice `hashJoin` of tickets ⋈ payments, `memory: '64MB'` (spills);
 *   `hash-text`: the same with the default output (the payment's key kept too), where tickets
 *   pass as their text; `hash-map`: a plain Map of every payment, tickets streamed.
 * - `merge`: sluice `mergeJoin` of both files sorted by summons number; `merge-text`: the same
 *   with the default output, tickets passed as their text.
 * The header line is Python's: the tickets' columns, then the other side's but its key.
 */
import { csv, hashJoin, lookup, map, mergeJoin, run } from '../lib/index.js';
import { readCodes } from '../examples/fines.js';

const [job, input, other, output] = process.argv.slice(2) as [string, string, string, string];
const source = csv.read(input);
const sink = (extra: () => string[]) => csv.write(output, { headers: () => [...(source.headers ?? []), ...extra()] });
const concat = (l: string[] | null, r: string[] | null) => [...l!, ...r!.slice(1)];

switch (job) {
  case 'floor':
    await run(source, sink(() => []));
    break;
  case 'lookup': {
    // Fines as one-field rows and the default merge (`[...row, ...fine]`): each ticket then passes as its text.
    const fines = new Map([...(await readCodes(other))].map(([code, fine]) => [code, [String(fine)]]));
    await run(source, lookup<string[], string[], string[]>(fines, { on: 5, missing: [''] }), sink(() => ['fine']));
    break;
  }
  case 'lookup-map': {
    const codes = await readCodes(other);
    await run(source, map((row: string[]) => [...row, String(codes.get(row[5]!) ?? '')]), sink(() => ['fine']));
    break;
  }
  case 'hash': {
    const payments = csv.read(other);
    await run(source, hashJoin<string[], string[], string[]>(payments, { on: 0, memory: '64MB', merge: concat }), sink(() => (payments.headers ?? []).slice(1)));
    break;
  }
  case 'hash-text': {
    // The default output (`[...ticket, ...payment]`, the summons number twice): each ticket then passes as its text.
    const payments = csv.read(other);
    await run(source, hashJoin<string[], string[], string[]>(payments, { on: 0, memory: '64MB' }), sink(() => [...(payments.headers ?? [])]));
    break;
  }
  case 'hash-map': {
    const payments = csv.read(other);
    const table = new Map<string, string[][]>();
    for await (const row of payments) {
      const r = row as string[];
      const list = table.get(r[0]!);
      if (list) list.push(r);
      else table.set(r[0]!, [r]);
    }
    const { many } = await import('stream-chain');
    await run(source, (row: string[]) => many((table.get(row[0]!) ?? []).map((p) => [...row, ...p.slice(1)])), sink(() => (payments.headers ?? []).slice(1)));
    break;
  }
  case 'merge': {
    const payments = csv.read(other);
    await run(source, mergeJoin<string[], string[], string[]>(payments, { on: 0, merge: concat }), sink(() => (payments.headers ?? []).slice(1)));
    break;
  }
  case 'merge-text': {
    // As hash-text: the default output, tickets passed as their text.
    const payments = csv.read(other);
    await run(source, mergeJoin<string[], string[], string[]>(payments, { on: 0 }), sink(() => [...(payments.headers ?? [])]));
    break;
  }
  default:
    throw new Error(`unknown job ${job}`);
}
