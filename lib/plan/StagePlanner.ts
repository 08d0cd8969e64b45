import type { ActionSpec, Dataset, DatasetSpec } from '../dataset/Dataset';
import type { ShuffleDependency, ShuffleWriteSpec } from '../dataset/Dependency';
import type { JobPlan, StagePlan } from './Plan';

/**
 * Splits a job's dataset graph into stages at its shuffle dependencies (Spark's DAGScheduler, the planning
 * half) and returns the plan as plain JSON. A shuffle used twice in one job becomes one stage.
 */
export class StagePlanner {
  private stages: StagePlan[] = [];
  private readonly byShuffle = new Map<number, StagePlan>();

  private constructor() {}

  /** The plan of a job computing `root` and applying `action` to each of its partitions. */
  static plan(root: Dataset, action: ActionSpec, batchTime: number, jobId: number): JobPlan {
    const planner = new StagePlanner();
    const result = planner.stage(root, undefined);
    return { jobId, batchTime, stages: planner.stages, resultStageId: result.stageId, action };
  }

  private stage(root: Dataset, shuffleWrite: ShuffleWriteSpec | undefined): StagePlan {
    const datasets: DatasetSpec[] = [];
    const parents: StagePlan[] = [];
    const reads: number[] = [];
    const seen = new Set<number>();
    // An explicit stack, not recursion: a window over many batches unions long chains of datasets.
    const stack: Array<{ ds: Dataset; expanded: boolean }> = [{ ds: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (top.expanded) {
        datasets.push(top.ds.toSpec());
        continue;
      }
      if (seen.has(top.ds.id)) continue;
      seen.add(top.ds.id);
      stack.push({ ds: top.ds, expanded: true });
      for (const dep of top.ds.dependencies) {
        if (dep.kind === 'shuffle') {
          parents.push(this.shuffleStage(dep));
          reads.push(dep.shuffleId);
        } else if (!seen.has(dep.parent.id)) {
          stack.push({ ds: dep.parent, expanded: false });
        }
      }
    }
    const stage: StagePlan = {
      stageId: this.stages.length,
      datasets,
      rootId: root.id,
      numPartitions: root.numPartitions,
      parentStageIds: [...new Set(parents.map((p) => p.stageId))],
      shuffleReads: reads,
      ...(shuffleWrite ? { shuffleWrite } : {}),
      runOn: datasets.some((d) => d.driverOnly) ? 'driver' : 'any',
    };
    this.stages.push(stage);
    return stage;
  }

  private shuffleStage(dep: ShuffleDependency): StagePlan {
    let stage = this.byShuffle.get(dep.shuffleId);
    if (!stage) {
      stage = this.stage(dep.parent, dep.writeSpec());
      this.byShuffle.set(dep.shuffleId, stage);
    }
    return stage;
  }
}
