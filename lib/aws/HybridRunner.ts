import type { TaskPlan, TaskResult } from '../plan/Plan';
import type { TaskControl, TaskRunner } from '../scheduler/TaskRunner';

/**
 * Sends tasks to the worker function, except the tasks of one-partition stages (a final count, a reduce into
 * one partition), which run inside the coordinator: a Lambda round trip costs more than such a task; a stage that
 * reads a source's planned input always goes to a worker. The metrics count them (`coordinatorTasks`).
 */
export class HybridRunner implements TaskRunner {
  readonly name: string;
  readonly parallelism: number;
  /** Tasks run inside the coordinator so far. */
  coordinatorTasks = 0;

  constructor(
    private readonly remote: TaskRunner,
    private readonly local: TaskRunner,
    private readonly smallStagesLocally: boolean,
  ) {
    this.name = `${remote.name}+coordinator`;
    this.parallelism = remote.parallelism;
  }

  run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
    // A stage that reads planned input reads records: that belongs in a worker, or the coordinator's bytes
    // would grow with the input rate again.
    const readsInput = task.stage.datasets.some((d) => d.type === 'directRead');
    if (this.smallStagesLocally && task.stage.numPartitions === 1 && !readsInput) {
      this.coordinatorTasks++;
      return this.local.run(task, control);
    }
    return this.remote.run(task, control);
  }

  async close(): Promise<void> {
    await this.remote.close();
  }
}
