/**
 * A batch of a `callService()` stage from the call to its delivery: its rows, the results
 * found for them and the parts that failed for good, and the `BatchError` naming those.
 */
import { reasonOf } from '../core/errors.js';
import { BatchError, rowsText, type RowRange } from './errors.js';
import { originOf } from '../core/origin.js';

/** Rows of a batch that failed for good together (a call, a half, or one item). */
export interface Failure {
  /** Their positions in the batch (0-based, ascending; not always adjacent). */
  readonly at: readonly number[];
  /** The last attempt's error. */
  readonly error: unknown;
  readonly attempts: number;
  readonly why: string;
}

/** A closed batch, from its first call until its rows have left the stage. */
export interface Job<In, R> {
  readonly seq: number;
  readonly rows: In[];
  /** 1-based number within the stage of the batch's first row. */
  readonly firstIndex: number;
  readonly key: string;
  done: boolean;
  /** Results by position in the batch; the positions of `failures` have none. */
  readonly results: R[];
  readonly failures: Failure[];
}

/** A failure's reason, and why it was not tried again. */
export const reasonWhy = (failure: Failure): string => `${reasonOf(failure.error)} (${failure.why})`;

/** A BatchError for failed parts of a batch: their rows, and each part's reason when there are several. */
export function failedError(stage: string, job: Job<unknown, unknown>, failures: readonly Failure[]): BatchError {
  const parts = [...failures].sort((a, b) => a.at[0] - b.at[0]);
  const ranges = rangesOf(job, parts.flatMap((f) => f.at).sort((a, b) => a - b));
  let reason = reasonWhy(parts[0]);
  if (parts.length > 1) {
    reason = parts.slice(0, 10).map((f) => `${rowsText(rangesOf(job, f.at))}: ${reasonWhy(f)}`).join('; ');
    if (parts.length > 10) reason += `; … (${parts.length} parts)`;
  }
  return new BatchError(stage, job.seq, ranges, Math.max(...parts.map((f) => f.attempts)), reason, parts[0].error);
}

/** Ascending positions in a batch as ranges of row numbers within the stage, with their origins. */
function rangesOf(job: Job<unknown, unknown>, positions: readonly number[]): RowRange[] {
  const ranges: RowRange[] = [];
  for (let k = 0; k < positions.length; ) {
    let end = k;
    while (end + 1 < positions.length && positions[end + 1] === positions[end] + 1) end++;
    const [a, b] = [positions[k], positions[end]];
    ranges.push({ first: job.firstIndex + a, last: job.firstIndex + b, firstOrigin: originOf(job.rows[a]), lastOrigin: originOf(job.rows[b]) });
    k = end + 1;
  }
  return ranges;
}
