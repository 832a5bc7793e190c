/**
 * Which partition this process is, from explicit options or the environment a batch
 * platform sets: Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`; the count is the Job's
 * `completions`, which Kubernetes does not put in the environment, so it must be given),
 * AWS Batch array jobs (`AWS_BATCH_JOB_ARRAY_INDEX`, with `AWS_BATCH_JOB_ARRAY_SIZE` or the
 * count given) and Cloud Run jobs (`CLOUD_RUN_TASK_INDEX`, `CLOUD_RUN_TASK_COUNT`).
 */
import { checkInteger, checkOptions, fail, invalid, named, optionNames } from '../core/validate.js';

export interface PartitionIndexOptions {
  /** This partition, 0-based. @default from the environment */
  index?: number;
  /** How many partitions there are. @default from the environment */
  count?: number;
  /** Where to look for the platform's variables. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface PartitionIndex {
  readonly index: number;
  readonly count: number;
  /** Where the index came from: `'options'` or the variable's name. */
  readonly from: string;
}

const PARTITION_INDEX_OPTIONS = optionNames<PartitionIndexOptions>('distributed.partitionIndex()', { index: true, count: true, env: true });

const PLATFORMS = [
  ['JOB_COMPLETION_INDEX', undefined],
  ['AWS_BATCH_JOB_ARRAY_INDEX', 'AWS_BATCH_JOB_ARRAY_SIZE'],
  ['CLOUD_RUN_TASK_INDEX', 'CLOUD_RUN_TASK_COUNT'],
] as const;

function fromEnv(env: Readonly<Record<string, string | undefined>>, name: string): number {
  const text = env[name];
  if (text === undefined || !/^\d+$/.test(text.trim())) fail(name, 'a whole number (from the environment)', text);
  return Number(text);
}

/**
 * This process's partition: `index` and `count` given, or read from the first platform
 * variable set. Throws a TypeError naming what is missing or wrong.
 */
export function partitionIndex(options: PartitionIndexOptions = {}): PartitionIndex {
  return named('distributed.partitionIndex()', () => {
    const o = checkOptions('options', options, PARTITION_INDEX_OPTIONS) as PartitionIndexOptions;
    const env = o.env === undefined ? process.env : (checkOptions('env', o.env) as Readonly<Record<string, string | undefined>>);
    const given = o.count === undefined ? undefined : checkInteger('count', o.count, 1);
    let index: number;
    let count: number | undefined = given;
    let from = 'options';
    if (o.index !== undefined) index = checkInteger('index', o.index, 0);
    else {
      const platform = PLATFORMS.find(([variable]) => env[variable] !== undefined);
      if (!platform) {
        throw invalid(`no partition index: pass \`index\` and \`count\`, or run where ${PLATFORMS.map(([v]) => v).join(', ')} is set`);
      }
      const [variable, countVariable] = platform;
      index = fromEnv(env, variable);
      from = variable;
      if (count === undefined && countVariable && env[countVariable] !== undefined) count = checkInteger(countVariable, fromEnv(env, countVariable), 1);
    }
    if (count === undefined) {
      throw invalid(
        from === 'JOB_COMPLETION_INDEX'
          ? 'JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the count is not: pass `count` (the Job\'s `completions`)'
          : `the partition count is unknown: pass \`count\``,
      );
    }
    if (index >= count) throw invalid(`index ${index} (from ${from}) is not below the count ${count}`);
    return { index, count, from };
  });
}
