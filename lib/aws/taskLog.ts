import { type Logger, silentLogger } from '../log/Logger';
import { TaskLocal } from '../scheduler/TaskLocal';
import { logRetries } from './logRetries';

/**
 * The logger of the task a worker invocation runs, carried along the task's async calls: the store and the Kinesis
 * reader are built once per container, yet their throttling belongs in the line of the invocation it slowed down
 * (with its request id, job and batch), and one process may serve several invocations at once.
 */
const taskLogs = new TaskLocal<Logger>();

/** Runs `run` with `log` as the task's logger. */
export function withTaskLog<T>(log: Logger, run: () => Promise<T>): Promise<T> {
  return taskLogs.run(log, run);
}

/** A `RetryPolicy.onRetry` that logs to the logger of the task running the call (nowhere outside a task). */
export function logTaskRetries(service: string): (error: unknown, retry: number, delayMs: number) => void {
  return (error, retry, delayMs) =>
    logRetries(taskLogs.get() ?? silentLogger, service)(error, retry, delayMs);
}
