/**
 * Joining stages into a pipeline: `run(source, ...stages, sink, options)` resolves with a
 * summary of what happened; `pipe(source, ...stages)` gives a Readable to pull rows from.
 *
 * Read first: run.ts. A pipeline is built by stages.ts (sources and stages made streams,
 * consecutive functions fused into one stream-chain chain, a `select` fused into a source
 * that can project: fuse-projection.ts, rows moved in batches where every receiver takes
 * them apart: batch-rows.ts), started behind a source gate (source-gate.ts: `take(n)`
 * stops the source there), with rejects going to a channel (reject-channel.ts) and the
 * written rows counted at the end (written-counter.ts). typed.ts holds the types that
 * check each stage accepts the rows of the one before.
 */
export { run, type RunOptions, type Summary } from './run.js';
export type { Progress } from './progress.js';
export { pipe } from './pipe.js';
export { isSourceLike, type SourceLike, type StageLike } from './stages.js';
export type { RejectRecord, RejectTarget } from './reject-channel.js';
export type { From, Through, RowFunction, Typed, Untyped } from './typed.js';
