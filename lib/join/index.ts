/**
 * Joining two inputs. `mergeJoin` (merge-join.ts, read it first) joins two inputs sorted by
 * the key in one pass; `hashJoin` (hash-join.ts) loads one side into hash tables of encoded
 * rows (encoded-table.ts) within a byte budget and spills the partitions that do not fit; `lookup` (lookup.ts)
 * enriches each row from a function, a table or PostgreSQL, a batch of keys at a time,
 * with a bounded cache (lookup-cache.ts), its calls run by callService. Every join is a
 * stage whose upstream is the left side: the other side is pulled through side-reader.ts.
 * keys.ts resolves `on`; combine.ts builds output rows; join-stage.ts holds what the
 * stages share (types, accounting, release); partitions.ts writes the hash join's spill
 * partitions through lib/spill/.
 * A row flows: written (left) → its key → matched with the other side's rows of that key →
 * one output row per pair (or with null for an outer join) → pushed. Between csv.read and a
 * CSV sink a left row may be a TextRow (lib/core/text-row.ts): keys.ts's `readingText` reads its
 * key, combine.ts's `appendTo` appends the other side's fields to its line.
 */
export { mergeJoin, type MergeJoinOptions } from './merge-join.js';
export { hashJoin, type HashJoinOptions, type HashJoinStage } from './hash-join.js';
export type { JoinOptions, JoinStage, JoinMetrics, JoinType, SideCounts } from './join-stage.js';
export type { JoinKey, JoinOn } from './keys.js';
export type { Merge, Joined, OutputOptions } from './combine.js';
export { lookup, type LookupOptions, type LookupStage, type LookupMetrics, type LookupFunction, type LookupResult, type LookupSource } from './lookup.js';
