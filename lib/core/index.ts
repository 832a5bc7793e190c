/**
 * What every part of sluice stands on, and imports nothing else of it: `Stage` (stage.ts,
 * the object-mode Transform every operation is, with its counts and batches of rows),
 * `RowOperation` (row-operation.ts, the base of map/filter/tap/…: a function per row,
 * concurrency, `onError`), origins (origin.ts: where a row was read from), the shared errors
 * (errors.ts), rejects (reject.ts), option checks (validate.ts), row helpers (rows.ts),
 * batching (batcher.ts, row-batch.ts) and the protocols pipelines use to fuse stages
 * (fusion.ts). Read stage.ts first.
 *
 * This face is what the package exports; sluice's own folders import core's files directly.
 */
export { Stage, type StageStats } from './stage.js';
export type { OnError, RowOptions, ConcurrentOptions, RowContext } from './row-operation.js';
export type { Reject } from './reject.js';
export { originOf, type Origin } from './origin.js';
export { RowError, RejectLimitError, AbortError } from './errors.js';
