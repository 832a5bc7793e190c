/**
 * What a queue engine does for a distributed job (pg-boss.ts and bullmq.ts implement it).
 * Job data is a split descriptor and nothing else: whoever can read the queue can read it,
 * so credentials never travel in it (workers take theirs from their own environment).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface Delivery {
  /** The engine's job id. */
  readonly id: string;
  /** The split descriptor. */
  readonly data: unknown;
  /** 1 on the first delivery, one more on each redelivery. */
  readonly attempt: number;
  /**
   * Whether `complete` joins the split's transaction (pg-boss: it runs just before the
   * commit, on the split's client). Otherwise (BullMQ) the worker calls it after the commit:
   * acknowledged before, a crash or a failed commit in between would lose the split's rows.
   */
  readonly inTransaction: boolean;
  /**
   * Acknowledges the job. `client`: the split's transaction, when `inTransaction`. An
   * acknowledgement lost after the commit is harmless: the redelivery finds the done-marker.
   */
  complete(result: object, client: pg.ClientBase | null): Promise<void>;
  /** Gives the job back to be retried (or dead-lettered once its retries are spent). */
  fail(message: string): Promise<void>;
  /** Called while the split runs, to keep a lock alive where the engine needs it. */
  readonly heartbeatMs: number;
  heartbeat(): Promise<void>;
}

export interface QueueEngine {
  /** `'pg-boss'` or `'bullmq'`. */
  readonly kind: string;
  /** Creates the queue (idempotent) and starts what the engine needs. */
  open(queue: string): Promise<void>;
  /** Adds a job with this deterministic key unless one exists; true when added. */
  add(queue: string, key: string, data: object): Promise<boolean>;
  /** Jobs waiting to be taken (not active, not finished). */
  waiting(queue: string): Promise<number>;
  /** Jobs not finished: waiting, active or waiting to be retried. */
  unfinished(queue: string): Promise<number>;
  /** Records that the plan of `splits` jobs was enqueued whole. */
  setPlanned(queue: string, splits: number): Promise<void>;
  /** The planned count once the plan is whole, else null. */
  planned(queue: string): Promise<number | null>;
  /** Takes the next job, or null when none is ready. */
  take(queue: string): Promise<Delivery | null>;
  /** Stops the engine's timers and connections (not the caller's pool). */
  close(): Promise<void>;
}

/** A UUID derived from the queue and the split id: the same split is always the same job. */
export function jobUuid(queue: string, key: string): string {
  const h = createHash('sha1').update(`sluice\0${queue}\0${key}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
