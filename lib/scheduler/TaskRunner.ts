import type { TaskPlan, TaskResult } from '../plan/Plan';

/** Executes tasks somewhere: in this process, on worker threads, or as Lambda invocations. */
export interface TaskRunner {
  /** A short name for logs and metrics: `in-process`, `worker-threads(2)`, `lambda`. */
  readonly name: string;
  /** How many tasks it runs at once. */
  readonly parallelism: number;
  /** Runs one task; failures come back as results. */
  run(task: TaskPlan): Promise<TaskResult>;
  /** Releases threads, sockets and clients. */
  close(): Promise<void>;
}
