/**
 * A bound on V8's young generation while CSV is parsed, the largest part of a pipeline's
 * memory beyond Node's own: V8 doubles the young generation each time as many bytes have
 * survived scavenges since its last growth as it holds — which any long streaming run
 * reaches — up to 2 × 16 MB by default, though what survives a scavenge here is a few chunks'
 * rows (~1 MB). Once it has grown to `YOUNG_BOUND` bytes, its growth factor is set to 1, so it
 * stays there (V8 reads that flag at each growth; `--max-semi-space-size` is read only at
 * startup). The setting is the process's: it is made only when the process was not started
 * with a young-generation flag of its own, and `SLUICE_YOUNG_GENERATION=unbounded` in the
 * environment leaves V8 alone. Smaller bounds cost speed: rows then survive into the old
 * generation (docs/performance.md#memory).
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Bytes of the young generation (both semi-spaces) it may grow to: 2 × 4 MB. */
export const YOUNG_BOUND = 8 << 20;

const ownFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((flag) => /semi[-_]space/.test(flag));
let settled = ownFlags || process.env.SLUICE_YOUNG_GENERATION === 'unbounded';

/** Called once per parsed chunk (a look at the young generation costs ~3 µs): bounds it once it has grown to `YOUNG_BOUND`. */
export function boundYoungGeneration(): void {
  if (settled) return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  if (young === undefined) {
    settled = true; // (an engine without that space: nothing to bound)
    return;
  }
  if (young.space_size < YOUNG_BOUND) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  settled = true;
}
