/**
 * Levels of a log line, from the most detail to the least: a logger set to `warn` writes `warn` and `error`
 * lines and drops `debug` and `info` ones.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a line carries beside its message: `job`, `batchTime`, `stageId`, `partition`, `error`, … */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where the engine says what happened that a user may want to know: a task retried and why, a speculative copy,
 * dead letters, a batch that failed, a lost lease. The engine writes through this interface only; the local runtime
 * implements it over stderr (`StderrLogger`), the Lambda functions over Powertools' Logger (`PowertoolsLog`).
 * Messages are sentences a user can act on; the fields repeat what a query filters on.
 *
 * @example
 * const log = runtimeLog.with({ job: 'counts', batchTime: 3000 });
 * log.warn('Task 0 of stage 1 of batch 3000 ms failed on attempt 1 of 4; retrying: Error: boom', { stageId: 1 });
 */
export interface Logger {
  /** Detail for whoever debugs Sluice itself: each task's outcome, each plan. */
  debug(message: string, fields?: LogFields): void;
  /** Normal life: a batch done, a lease taken, a speculative copy launched. */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong and was handled: a retry, throttling, dead letters, a lease lost. */
  warn(message: string, fields?: LogFields): void;
  /** Something went wrong and was not: a batch that failed. */
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (a job's name, a batch time). */
  with(fields: LogFields): Logger;
}

/** Whether `text` names a level (`debug`, `info`, `warn`, `error`). */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

/** Whether a line at `level` passes a logger set to `threshold`. */
export function logs(threshold: LogLevel, level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}

/** Says nothing: what the engine logs to when the runtime gives it no logger (tests, notebooks). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};
