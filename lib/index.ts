export { run, type RunOptions, type Summary } from './pipeline/run.js';
export { pipe } from './pipeline/pipe.js';
export type { SourceLike, StageLike } from './pipeline/stages.js';
export type { RejectRecord, RejectTarget } from './pipeline/reject-channel.js';

export { map, type MapFunction, type MapOptions } from './operations/map.js';
export { filter, type FilterOptions, type Predicate } from './operations/filter.js';
export { tap, type TapOptions } from './operations/tap.js';
export { select } from './operations/select.js';
export { rename } from './operations/rename.js';
export { replace, type Replacements } from './operations/replace.js';
export { set } from './operations/set.js';
export { addColumn } from './operations/add-column.js';
export { take, type TakeOptions } from './operations/take.js';
export { skip } from './operations/skip.js';
export { batch, type BatchOptions } from './operations/batch.js';
export { flatten } from './operations/flatten.js';

export { Stage, type StageStats } from './internal/stage.js';
export type { OnError, RowOptions, ConcurrentOptions, RowContext } from './internal/row-operation.js';
export type { Reject } from './internal/reject.js';
export type { Origin } from './internal/origin.js';
export { originOf } from './internal/origin.js';
export { RowError, CsvError, RejectLimitError, AbortError } from './internal/errors.js';

export { csv } from './csv.js';
export type { CsvParseOptions, CsvParseStage } from './operations/csv-parse.js';
export type { CsvFormatOptions, CsvFormatStage, CsvRow } from './operations/csv-format.js';
export type { CsvReadOptions } from './sources/csv-read.js';
export type { CsvWriteOptions, CsvWriteSink } from './sinks/csv-write.js';

export { postgres } from './postgres.js';
export { PostgresError, type PgTarget } from './internal/postgres.js';
export type { TypeParsers, TypesOption } from './internal/pg-types.js';
export type { PostgresQueryOptions, PostgresQueryStage, KeysetOptions } from './sources/postgres-query.js';
export { PostgresWriteError, type PostgresWriteOptions, type PostgresWriteSink } from './sinks/postgres-write.js';

export type { BatchStage, FlushCounts, FlushReason } from './operations/batch.js';
export { callService, type CallServiceOptions, type CallContext, type ServiceFunction, type ServiceMetrics, type ServiceStage } from './operations/call-service.js';
export { postJson, type PostJsonOptions } from './services/post-json.js';
export { itemFailed, type ItemFailure, type ItemFailedOptions } from './services/item-failed.js';
export { RateLimiter, type RateOptions, type AdaptiveOptions } from './internal/rate-limiter.js';
export { RetryBudget, isRetryable, type RetryOptions, type RetryBudgetOptions } from './internal/retry.js';
export { ServiceError, BatchError, type ServiceErrorKind } from './internal/errors.js';
export type { From, Through, RowFunction, Typed, Untyped } from './pipeline/typed.js';
