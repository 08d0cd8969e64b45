import type { TaskPlan, TaskResult } from '../plan/Plan';

/** What the scheduler may tell a runner about one task besides its plan. */
export interface TaskControl {
  /**
   * Aborted when the result is no longer needed (another attempt of the task already won): a runner drops
   * the task if it has not started it yet. A task already running is left to finish; its result is ignored.
   */
  readonly signal?: AbortSignal;
  /**
   * Called when the task really starts (leaves the runner's queue), so the scheduler measures running time,
   * not time spent waiting for a slot. The scheduler only copies tasks it saw start: a runner that never calls
   * it (the worker-thread pool, whose queues are per thread) gets no speculative copies.
   */
  readonly onStarted?: () => void;
}

/** Executes tasks somewhere: in this process, on worker threads, or as Lambda invocations. */
export interface TaskRunner {
  /** A short name for logs and metrics: `in-process`, `worker-threads(2)`, `lambda`. */
  readonly name: string;
  /** How many tasks it runs at once. */
  readonly parallelism: number;
  /** Runs one task; failures come back as results. */
  run(task: TaskPlan, control?: TaskControl): Promise<TaskResult>;
  /** Releases threads, sockets and clients. */
  close(): Promise<void>;
}
