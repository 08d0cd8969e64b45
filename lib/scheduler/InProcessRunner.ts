import { type ExecutorEnv, TaskExecutor } from '../executor/TaskExecutor';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import type { TaskControl, TaskRunner } from './TaskRunner';

/** Runs tasks in the driver's own process and thread; also runs the stages that only the driver can. */
export class InProcessRunner implements TaskRunner {
  readonly name = 'in-process';
  readonly parallelism = 1;
  private readonly executor: TaskExecutor;

  constructor(env: ExecutorEnv) {
    this.executor = new TaskExecutor(env);
  }

  run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
    // Nothing queues here: a task starts when it is handed over.
    control?.onStarted?.();
    // Plans cross a serialization boundary on every other runner; cloning here keeps this runner honest about
    // what a task can see (no live objects), at a cost that is small next to the task itself.
    return this.executor.run(structuredClone(task));
  }

  async close(): Promise<void> {}
}
