/**
 * Past one machine: the same pipeline run split by split on many worker processes.
 * Static mode (`distributed.partition`: each process runs its share of a deterministic
 * plan, its index from Kubernetes, AWS Batch or Cloud Run) and queue mode
 * (`distributed.job`: a planner enqueues one job per split on pg-boss or BullMQ, workers
 * take them), with effectively-once PostgreSQL sinks (a split's rows and its done-marker
 * commit in one transaction).
 *
 * Read first: split.ts (what a split source, pipeline and summary are), then job.ts. A row
 * flows: a split source (csv.split, postgres.split) plans splits → job.ts enqueues their
 * descriptors through an engine (engine.ts; pg-boss.ts, bullmq.ts) → worker.ts takes one →
 * run-split.ts opens its rows and runs the pipeline, inside exactly-once.ts's transaction
 * when asked → the job is acknowledged after the commit. partition.ts runs splits without a
 * queue, its index from partition-index.ts; shared-rate.ts keeps a rate limit in PostgreSQL
 * for a service stage on many workers.
 */
import { bullmq } from './bullmq.js';
import { job } from './job.js';
import { partition } from './partition.js';
import { partitionIndex } from './partition-index.js';
import { pgBoss } from './pg-boss.js';
import { sharedRate } from './shared-rate.js';

/** Running a pipeline on many workers: `partition` (static), `job` (queue mode), the engines `pgBoss` and `bullmq`, and `sharedRate` (a rate limit all workers share). */
export const distributed = { partition, partitionIndex, job, pgBoss, bullmq, sharedRate } as const;

export type { Split, SplitSource, SplitContext, SplitPipeline, SplitReject, SplitSummary, DistributedSummary } from './split.js';
export type { Delivery, QueueEngine } from './engine.js';
export type { ExactlyOnceOptions, JobProgress } from './exactly-once.js';
export type { PartitionOptions } from './partition.js';
export type { PartitionIndex, PartitionIndexOptions } from './partition-index.js';
export type { DistributedJob, JobOptions, PlanOptions, PlanSummary } from './job.js';
export type { WorkOptions } from './worker.js';
export type { PgBossEngineOptions } from './pg-boss.js';
export type { BullmqEngineOptions } from './bullmq.js';
export type { SharedRateOptions } from './shared-rate.js';
