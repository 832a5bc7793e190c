// The package: re-exports only. Each folder's index.ts says what lives in it.
export { run, pipe, type Progress, type RunOptions, type Summary, type SourceLike, type StageLike, type RejectRecord, type RejectTarget } from './pipeline/index.js';
export type { From, Through, RowFunction, Typed, Untyped } from './pipeline/index.js';

export * from './operations/index.js';
export * from './core/index.js';

export * from './csv/index.js';
export * from './postgres/index.js';
export * from './service/index.js';
export * from './sort/index.js';
export * from './parallel/index.js';
export * from './join/index.js';
export * from './distributed/index.js';
