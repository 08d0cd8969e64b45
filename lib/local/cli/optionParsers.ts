// The option parsers the commands share: commander calls each with the flag's text and reports an
// InvalidArgumentError as `error: option '--x <y>' argument 'z' is invalid. <message>`, exit code 2.
import { InvalidArgumentError } from 'commander';
import { COORDINATOR_TIMEOUT_SECONDS, LAMBDA_MEMORY_MB } from '../../aws/deploymentContract';
import { MAX_BATCH_INTERVAL_MS, MAX_PARTITIONS } from '../../job/jobLimits';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../../log/Logger';
import { MAX_BATCHES } from '../../scheduler/JobScheduler';

/** A duration such as `500ms`, `10s`, `2m` or `1h`, in ms; a bare number is ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`expected a duration such as 500ms, 10s or 2m, got ${text}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms']!;
  return Math.round(Number(match[1]) * factor);
}

/**
 * A duration of 1 ms or more, `why` saying what it is for: `tune --budget 0` still ran every configuration's
 * estimate and trial, and `tune --trial 0` its 3 batches, as though the flag had not been given.
 */
export function parsePositiveDuration(why: string): (text: string) => number {
  return (text) => {
    const ms = parseDuration(text);
    if (ms < 1) throw new InvalidArgumentError(`expected a duration of 1ms or more (${why}), got ${text}`);
    return ms;
  };
}

/** One of the logger's levels: debug, info, warn or error. */
export function parseLogLevel(text: string): LogLevel {
  if (!isLogLevel(text))
    throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}, got ${text}`);
  return text;
}

/** A whole number, 0 or more. */
export function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got ${text}`);
  return n;
}

/**
 * A whole number, 1 or more, `why` saying what 0 would do: `tune --max-trials 0` ran no trial and reported no
 * rate for any configuration.
 */
export function parsePositiveCount(why: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`expected a whole number, 1 or more (${why}), got ${text}`);
    return n;
  };
}

/**
 * A whole number from `min` to `max`, `why` saying what the bound is for: `--workers 100000` started a hundred
 * thousand threads, each loading the engine, and never got to its first batch. `what` names the number in the
 * message.
 */
export function parseCountIn(
  min: number,
  max: number,
  why = '',
  what = 'a whole number',
): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected ${what} from ${min} to ${max}${why ? ` (${why})` : ''}, got ${text}`,
      );
    }
    return n;
  };
}

/** Worker threads of a local run: 0 (tasks in the main thread) to 256, a stage's most tasks. */
export const parseWorkers = parseCountIn(
  0,
  MAX_PARTITIONS,
  'a stage has at most 256 tasks, one per partition, and each thread loads the engine',
);

/** `--batches`: 0 (runs nothing) to {@link MAX_BATCHES}, as a start event's `batches` on AWS. */
export const parseBatches = parseCountIn(
  0,
  MAX_BATCHES,
  'the batch to stop after; leave it out to run until Ctrl-C',
);

/** A partition count a job may have, 1 to 256, as a job document's `defaultPartitions`. */
export const parsePartitions = parseCountIn(
  1,
  MAX_PARTITIONS,
  "a job document's defaultPartitions: a stage has at most 256 tasks, one per partition",
  'a partition count',
);

/** A batch interval a job may have, 1 ms to 1 h, as a job document's `batchIntervalMs`, in ms. */
export function parseBatchInterval(text: string): number {
  const ms = parseDuration(text);
  if (ms < 1 || ms > MAX_BATCH_INTERVAL_MS) {
    throw new InvalidArgumentError(
      `expected a batch interval from 1ms to 1h (a job document's batchIntervalMs), got ${text}`,
    );
  }
  return ms;
}

/** A TCP port on 127.0.0.1; 0 picks a free one. */
export const parsePort = parseCountIn(0, 65535, '0 picks a free one');

/** A Lambda function's memory in MB: a whole number Lambda offers, from 128 to 10240. */
export function parseMemoryMb(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < LAMBDA_MEMORY_MB.min || n > LAMBDA_MEMORY_MB.max) {
    throw new InvalidArgumentError(
      `expected a whole number of MB from ${LAMBDA_MEMORY_MB.min} to ${LAMBDA_MEMORY_MB.max}, got ${text}`,
    );
  }
  return n;
}

/** The coordinator's timeout in whole seconds, as `sluice:coordinatorTimeoutSeconds` takes it: 30 to 900. */
export const parseCoordinatorTimeoutSeconds = parseCountIn(
  COORDINATOR_TIMEOUT_SECONDS.min,
  COORDINATOR_TIMEOUT_SECONDS.max,
  '',
  'a whole number of seconds',
);

/**
 * A comma-separated list, each part read by `parse`, a value given twice kept once (where it first appears):
 * `tune --partitions 2,2` ran every trial of two partitions twice.
 */
export function parseList<T>(parse: (text: string) => T): (text: string) => T[] {
  return (text) => [...new Set(text.split(',').map((part) => parse(part)))];
}

/** A flag that may be given more than once: each value is added to the list. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The help of `--allow-functions-outside`, which `run`, `tune` and `validate` take. */
export const ALLOW_FUNCTIONS_OUTSIDE_HELP =
  "accept a job document's functions module outside the job file's folder (it must still be a .js, .mjs, .ts or .mts file)";

/** The help of the `<job>` argument of `run` and `validate`: every kind of job file they take. */
export const JOB_ARGUMENT_HELP =
  'a job document (.json) or a job module (.ts, .mts, .js, .mjs; path#exportName for a named export)';
