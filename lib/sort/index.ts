/**
 * Sorting more rows than fit in memory. `sort()` (sort.ts, read it first) holds rows up to a
 * byte budget, sorts them and spills each run to a private folder in sluice's own format
 * (both in lib/spill/, shared with the joins); at the end merge.ts merges the runs with a
 * heap. keys.ts turns `by` into one row comparator. groupBy (group-by.ts, with the
 * reducers of aggregations.ts) spills hash partitions through the same folder; topN keeps a
 * bounded heap; distinct a set of keys. A row flows: written → held in the
 * current run → (spilled, read back) → merged → pushed, with its origin kept.
 */
export { sort, type SortOptions, type SortStage } from './sort.js';
export { compareValues, type SortBy, type SortKey, type Column as SortColumn, type KeyFunction as SortKeyFunction, type Compare as SortCompare } from './keys.js';
export { SpillError, SpillFormatError } from '../spill/index.js';
export { groupBy, type Aggregations, type GroupArray, type GroupByOptions, type GroupKey, type GroupObject } from './group-by.js';
export { agg, type Reducer } from './aggregations.js';
export { topN, type TopNOptions } from './top-n.js';
export { distinct, type DistinctOptions } from './distinct.js';
