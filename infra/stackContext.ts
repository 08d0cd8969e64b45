import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { COORDINATOR_TIMEOUT_SECONDS } from '../lib/aws/deploymentContract';
import { findJobModules, type JobModuleFile } from '../lib/job/jobModuleFiles';
import type { SluiceStackProps } from './SluiceStack';

/** The folder of job modules deployed when `sluice:jobModules` is not set, if the project has it. */
export const DEFAULT_JOB_MODULES = 'jobs';

/** The context keys the stack reads, from `cdk.json` or `-c key=value`, with what each sets. */
export const CONTEXT_KEYS = {
  'sluice:stackName': 'the stack name (default Sluice)',
  'sluice:streamName': 'import this Kinesis stream by name instead of creating one',
  'sluice:streamArn': 'import this Kinesis stream by ARN instead of creating one',
  'sluice:shards': 'shards of the created stream (default 2)',
  'sluice:functions': 'false leaves out the functions and the tick (LocalStack without Docker); default true',
  'sluice:workerMemoryMb': 'worker memory in MB (default 1769)',
  'sluice:workerConcurrency': 'workers at once, reserved (default 20)',
  'sluice:coordinatorMemoryMb': 'coordinator memory in MB (default 1024)',
  'sluice:coordinatorTimeoutSeconds':
    'how long a coordinator invocation runs before it hands over (default 300)',
  'sluice:unstableAfterBatches': 'batches in a row of growing total delay that raise the alarm (default 10)',
  'sluice:logRetentionDays': 'days function logs are kept (default 7)',
  'sluice:temporaryDataDays': 'days before temporary data left by a crash expires (default 1)',
  'sluice:retainData': 'false deletes the bucket with the stack (it must be empty); default true',
  'sluice:noncurrentVersionDays':
    'days the previous version of an overwritten or deleted object is kept (default 7)',
  'sluice:controlConcurrency': 'control function executions at once, reserved (default 2)',
  'sluice:jobModules':
    'your job modules and functions modules to deploy: a folder or a comma-separated list of files (default jobs/ when it exists)',
} as const;

type Key = keyof typeof CONTEXT_KEYS;

/** A bad context value: the message names the key, what it got and what it takes. */
export class StackContextError extends Error {}

/**
 * Reads the stack's settings from CDK context. Values given with `-c` arrive as strings and those in `cdk.json`
 * as JSON, so both are accepted; anything else fails with the key at fault, before anything is synthesized.
 */
export function stackPropsFromContext(
  get: (key: string) => unknown,
  cwd: string = process.cwd(),
): {
  stackName: string;
  props: SluiceStackProps;
} {
  const value = (key: Key) => get(key) ?? undefined;
  const fail = (key: Key, got: unknown, expected: string): never => {
    throw new StackContextError(
      `context ${key}: expected ${expected}, got ${JSON.stringify(got)} (${CONTEXT_KEYS[key]})`,
    );
  };
  const text = (key: Key): string | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    return typeof v === 'string' && v !== '' ? v : fail(key, v, 'a non-empty string');
  };
  const whole = (key: Key, min: number, max: number): number | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    return Number.isInteger(n) && (n as number) >= min && (n as number) <= max
      ? (n as number)
      : fail(key, v, `a whole number from ${min} to ${max}`);
  };
  const flag = (key: Key): boolean | undefined => {
    const v = value(key);
    if (v === undefined) return undefined;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    return fail(key, v, 'true or false');
  };
  const stackName = text('sluice:stackName') ?? 'Sluice';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,100}$/.test(stackName)) {
    fail('sluice:stackName', stackName, 'letters, digits and hyphens, starting with a letter');
  }
  const timeout = whole(
    'sluice:coordinatorTimeoutSeconds',
    COORDINATOR_TIMEOUT_SECONDS.min,
    COORDINATOR_TIMEOUT_SECONDS.max,
  );
  const retention = whole('sluice:logRetentionDays', 1, 3653);
  const props: SluiceStackProps = {
    ...defined('existingStreamName', text('sluice:streamName')),
    ...defined('existingStreamArn', text('sluice:streamArn')),
    ...defined('shards', whole('sluice:shards', 1, 500)),
    ...defined('withFunctions', flag('sluice:functions')),
    ...defined('workerMemoryMb', whole('sluice:workerMemoryMb', 128, 10240)),
    ...defined('workerConcurrency', whole('sluice:workerConcurrency', 1, 1000)),
    ...defined('coordinatorMemoryMb', whole('sluice:coordinatorMemoryMb', 128, 10240)),
    ...defined('coordinatorTimeout', timeout === undefined ? undefined : Duration.seconds(timeout)),
    ...defined('unstableAfterBatches', whole('sluice:unstableAfterBatches', 2, 10000)),
    ...defined('logRetention', retention === undefined ? undefined : retentionDays(retention)),
    ...defined('temporaryDataDays', whole('sluice:temporaryDataDays', 1, 365)),
    ...defined('retainData', flag('sluice:retainData')),
    ...defined('noncurrentVersionDays', whole('sluice:noncurrentVersionDays', 1, 365)),
    ...defined('controlConcurrency', whole('sluice:controlConcurrency', 1, 100)),
    ...defined('jobModules', jobModules(text('sluice:jobModules'), cwd, fail)),
  };
  if (props.existingStreamName !== undefined && props.existingStreamArn !== undefined) {
    fail(
      'sluice:streamArn',
      props.existingStreamArn,
      'either sluice:streamName or sluice:streamArn, not both',
    );
  }
  return { stackName, props };
}

/** The modules `sluice:jobModules` names; without it, those of `jobs/` when the project has that folder. */
function jobModules(
  spec: string | undefined,
  cwd: string,
  fail: (key: Key, got: unknown, expected: string) => never,
): readonly JobModuleFile[] | undefined {
  if (spec === undefined && !existsSync(resolve(cwd, DEFAULT_JOB_MODULES))) return undefined;
  try {
    return findJobModules(spec ?? DEFAULT_JOB_MODULES, cwd);
  } catch (error) {
    return fail(
      'sluice:jobModules',
      spec ?? DEFAULT_JOB_MODULES,
      `modules to deploy: ${(error as Error).message}`,
    );
  }
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** CloudWatch Logs takes a fixed set of retention periods: the shortest one that keeps logs at least `days`. */
function retentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays)
    .filter((d): d is RetentionDays => typeof d === 'number' && d > 0)
    .sort((a, b) => a - b);
  return allowed.find((d) => d >= days) ?? RetentionDays.TEN_YEARS;
}
