/**
 * The general row operations, one per file named after its export: `map`, `filter`, `tap`
 * (a function per row, sync or async, with `concurrency`), `where` (a filter as data), `select`, `rename`, `replace`,
 * `set`, `addColumn` (column work on array or object rows), `take`, `skip` (counting),
 * `batch`, `flatten` (rows into arrays and back). Each is a `RowOperation` or `Stage` of
 * lib/core/; read map.ts first, then core/row-operation.ts.
 */
export { map, type MapFunction, type MapOptions } from './map.js';
export { filter, type FilterOptions, type Predicate } from './filter.js';
export { where, type WhereConditions, type WhereValue } from './where.js';
export { tap, type TapOptions } from './tap.js';
export { select } from './select.js';
export { rename } from './rename.js';
export { replace, type Replacements } from './replace.js';
export { set } from './set.js';
export { addColumn, type AddColumnOptions } from './add-column.js';
export { take, type TakeOptions } from './take.js';
export { skip } from './skip.js';
export { batch, type BatchOptions, type BatchStage, type FlushCounts, type FlushReason } from './batch.js';
export { flatten } from './flatten.js';
