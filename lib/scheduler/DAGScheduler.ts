import type { PersistenceTracker } from '../dataset/PersistenceTracker';
import { CacheMissError, TaskFailedError } from '../errors';
import type { JobPlan, MapStatus, StagePlan, TaskPlan, TaskResult } from '../plan/Plan';
import type { BatchRun } from './BatchRun';
import type { TaskRunner } from './TaskRunner';

/** Settings of the stage scheduler. */
export interface DAGSchedulerOptions {
  /** How many times a task is tried before its batch fails. Default 4, as Spark's spark.task.maxFailures. */
  readonly maxTaskAttempts?: number;
}

/**
 * Runs a job plan (Spark's DAGScheduler, the running half): stages whose parents are done run at once, each
 * stage's tasks run in parallel on the runner, failed tasks are retried, and map outputs feed the next stage.
 */
export class DAGScheduler {
  private readonly maxTaskAttempts: number;

  constructor(
    private readonly runner: TaskRunner,
    private readonly driverRunner: TaskRunner,
    private readonly persistence: PersistenceTracker,
    options: DAGSchedulerOptions = {},
  ) {
    this.maxTaskAttempts = options.maxTaskAttempts ?? 4;
  }

  /** Runs every stage of the job and returns the result stage's per-partition results. */
  async runJob(plan: JobPlan, batch: BatchRun): Promise<unknown[]> {
    batch.planBytes += JSON.stringify(plan).length;
    const mapOutputs = new Map<number, MapStatus[]>();
    const done = new Map<number, Promise<unknown[]>>();
    const runStage = (stage: StagePlan): Promise<unknown[]> => {
      let running = done.get(stage.stageId);
      if (!running) {
        running = (async () => {
          await Promise.all(stage.parentStageIds.map((id) => runStage(plan.stages[id]!)));
          return this.runStage(plan, stage, mapOutputs, batch);
        })();
        done.set(stage.stageId, running);
      }
      return running;
    };
    return runStage(plan.stages[plan.resultStageId]!);
  }

  private async runStage(
    plan: JobPlan,
    stage: StagePlan,
    mapOutputs: Map<number, MapStatus[]>,
    batch: BatchRun,
  ): Promise<unknown[]> {
    const shuffleInputs: Record<number, MapStatus[]> = {};
    for (const id of stage.shuffleReads) shuffleInputs[id] = mapOutputs.get(id)!;
    const runner = stage.runOn === 'driver' ? this.driverRunner : this.runner;
    batch.stages++;
    if (runner === this.driverRunner && runner !== this.runner) batch.driverStages++;
    const stageStarted = performance.now();
    const results = await Promise.all(
      Array.from({ length: stage.numPartitions }, (_, partition) =>
        this.runTask(
          runner,
          { ...base(plan, stage, forPartition(stage, shuffleInputs, partition)), partition, attempt: 0 },
          batch,
        ),
      ),
    );
    const slowest = Math.max(0, ...results.map((r) => r.metrics.durationMs));
    batch.dispatchMs += Math.max(0, performance.now() - stageStarted - slowest);
    if (stage.shuffleWrite) {
      mapOutputs.set(
        stage.shuffleWrite.shuffleId,
        results.map((r) => r.mapStatus!),
      );
    }
    return results.map((r) => r.result);
  }

  private async runTask(
    runner: TaskRunner,
    task: TaskPlan,
    batch: BatchRun,
  ): Promise<Extract<TaskResult, { ok: true }>> {
    let last = '';
    for (let attempt = 0; attempt < this.maxTaskAttempts; attempt++) {
      batch.taskAttempts++;
      const result = await runner.run({ ...task, attempt });
      if (result.ok) {
        batch.tasks++;
        batch.shuffleBytes += result.metrics.shuffleBytesWritten;
        batch.storageRequests += result.metrics.storageRequests;
        batch.taskStorageMs += result.metrics.storageMs;
        batch.taskComputeMs += result.metrics.durationMs - result.metrics.storageMs;
        batch.addDeadLetters(task.partition, result.deadLetters);
        for (const p of result.persisted)
          this.persistence.record(p.key, p.partition, p.level, p.numPartitions);
        return result;
      }
      if (result.cacheMiss) throw new CacheMissError(result.cacheMiss);
      last = result.error;
    }
    throw new TaskFailedError(
      task.stage.stageId,
      task.partition,
      this.maxTaskAttempts,
      last.split('\n')[0] ?? last,
    );
  }
}

/**
 * The map statuses a task needs, with inline map outputs cut down to the reduce partitions it reads: the
 * task's partition, followed through narrow dependencies (a union shifts it) down to each shuffle.
 */
function forPartition(
  stage: StagePlan,
  inputs: Record<number, MapStatus[]>,
  partition: number,
): Record<number, MapStatus[]> {
  const needed = reducePartitionsRead(stage, partition);
  const out: Record<number, MapStatus[]> = {};
  for (const [id, statuses] of Object.entries(inputs)) {
    const keep = needed.get(Number(id)) ?? new Set<number>();
    out[Number(id)] = statuses.map((s) => {
      if (!s.inline) return s;
      const inline: Record<number, string> = {};
      for (const r of keep) if (s.inline[r] !== undefined) inline[r] = s.inline[r]!;
      return { ...s, inline };
    });
  }
  return out;
}

/** For one task, the reduce partitions it reads of each shuffle. */
function reducePartitionsRead(stage: StagePlan, partition: number): Map<number, Set<number>> {
  const byId = new Map(stage.datasets.map((d) => [d.id, d]));
  const needed = new Map<number, Set<number>>();
  const stack: Array<[number, number]> = [[stage.rootId, partition]];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const [id, p] = stack.pop()!;
    if (seen.has(`${id}:${p}`)) continue;
    seen.add(`${id}:${p}`);
    for (const dep of byId.get(id)?.deps ?? []) {
      if (dep.type === 'shuffle') {
        let set = needed.get(dep.shuffleId);
        if (!set) {
          set = new Set();
          needed.set(dep.shuffleId, set);
        }
        set.add(p);
      } else if (dep.type === 'oneToOne') {
        stack.push([dep.parent, p]);
      } else if (p >= dep.outStart && p < dep.outStart + dep.length) {
        stack.push([dep.parent, p - dep.outStart + dep.inStart]);
      }
    }
  }
  return needed;
}

function base(plan: JobPlan, stage: StagePlan, shuffleInputs: Record<number, MapStatus[]>) {
  return {
    jobId: plan.jobId,
    batchTime: plan.batchTime,
    stage,
    shuffleInputs,
    ...(stage.stageId === plan.resultStageId ? { action: plan.action } : {}),
  };
}
