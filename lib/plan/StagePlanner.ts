import type { ActionSpec, Dataset, DatasetSpec } from '../dataset/Dataset';
import type { ShuffleDependency, ShuffleWriteSpec } from '../dataset/Dependency';
import type { PersistenceTracker } from '../dataset/PersistenceTracker';
import { mergeGroupSize, type ShuffleOptions } from '../shuffle/ShuffleOptions';
import type { JobPlan, StagePlan } from './Plan';

/**
 * Splits a job's dataset graph into stages at its shuffle dependencies (Spark's DAGScheduler, the planning
 * half) and returns the plan as plain JSON. A shuffle used twice in one job becomes one stage. A large shuffle
 * gets a merge stage between its map stage and its readers (see `ShuffleMerger`, `mergeGroupSize`).
 */
export class StagePlanner {
  private stages: StagePlan[] = [];
  private readonly byShuffle = new Map<number, StagePlan>();

  private constructor(
    private readonly persistence: PersistenceTracker | undefined,
    private readonly shuffle: ShuffleOptions,
    private readonly keySpace: string | undefined,
  ) {}

  /**
   * The plan of a job computing `root` and applying `action` to each of its partitions. A persisted dataset
   * whose partitions all exist becomes a leaf that reads them: from the block store (its lineage is cut, as a
   * checkpoint cuts it) or from worker memory (a miss makes the job replan with lineage). `shuffle` is the
   * job's `StreamingContextOptions.shuffle`; `keySpace` names the planning driver in shuffle keys.
   */
  static plan(
    root: Dataset,
    action: ActionSpec,
    batchTime: number,
    jobId: number,
    persistence?: PersistenceTracker,
    shuffle: ShuffleOptions = {},
    keySpace?: string,
  ): JobPlan {
    const planner = new StagePlanner(persistence, shuffle, keySpace);
    const result = planner.stage(root, undefined);
    return { jobId, batchTime, stages: planner.stages, resultStageId: result.stageId, action };
  }

  private stage(root: Dataset, shuffleWrite: ShuffleWriteSpec | undefined, onDriver = false): StagePlan {
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
      const persisted = top.ds.persistSpec && this.persistence?.status(top.ds.persistSpec.key);
      if (persisted) {
        datasets.push(persistedLeaf(top.ds.toSpec(), persisted));
        continue;
      }
      stack.push({ ds: top.ds, expanded: true });
      for (const dep of top.ds.dependencies) {
        if (dep.kind === 'shuffle') {
          parents.push(this.shuffleStage(dep, top.ds));
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
      runOn: onDriver || datasets.some((d) => d.driverOnly) ? 'driver' : 'any',
    };
    this.stages.push(stage);
    return stage;
  }

  private shuffleStage(dep: ShuffleDependency, reader: Dataset): StagePlan {
    let stage = this.byShuffle.get(dep.shuffleId);
    if (!stage) {
      const readerOrigin = reader.origin;
      const write = {
        ...dep.writeSpec(),
        ...(readerOrigin === undefined ? {} : { origin: readerOrigin }),
        ...(this.shuffle.inlineMaxBytes === undefined ? {} : { inlineMaxBytes: this.shuffle.inlineMaxBytes }),
        ...(this.keySpace === undefined ? {} : { keySpace: this.keySpace }),
      };
      // A map side that combines runs the reader's functions: made in a foreachRDD's body, only the driver has
      // them, so the map stage runs there too, whatever its own datasets are.
      const mapStage = this.stage(dep.parent, write, reader.driverOnly && combinesWithOwnFunctions(write));
      const groupSize = mergeGroupSize(mapStage.numPartitions, write.partitioner.numPartitions, this.shuffle);
      stage = groupSize === undefined ? mapStage : this.mergeStage(mapStage, dep.shuffleId, groupSize);
      this.byShuffle.set(dep.shuffleId, stage);
    }
    return stage;
  }

  /** The merge stage of a combining shuffle: one task per group of map outputs, no datasets. */
  private mergeStage(mapStage: StagePlan, shuffleId: number, groupSize: number): StagePlan {
    const stage: StagePlan = {
      stageId: this.stages.length,
      datasets: [],
      rootId: -1,
      numPartitions: Math.ceil(mapStage.numPartitions / groupSize),
      parentStageIds: [mapStage.stageId],
      shuffleReads: [shuffleId],
      shuffleMerge: {
        shuffleId,
        groupSize,
        ...(this.keySpace === undefined ? {} : { keySpace: this.keySpace }),
      },
      runOn: 'any',
    };
    this.stages.push(stage);
    return stage;
  }
}

/** Whether a map side combines with functions of a scope (a built-in one any process has is not). */
function combinesWithOwnFunctions(write: ShuffleWriteSpec): boolean {
  const aggregator = write.aggregator;
  if (!aggregator || !write.mapSideCombine) return false;
  // A built-in may wrap a scope's function in its id (`builtin:keyBy:<id>`), whose scopes carry an `@`.
  const own = (id: string) => !id.startsWith('builtin:') || id.includes('@');
  return own(aggregator.createCombiner) || own(aggregator.mergeValue) || own(aggregator.mergeCombiners);
}

/**
 * The plan form of a persisted dataset read back instead of computed. It keeps its name (`generatedAs`): a map
 * side's dead letters belong to its stage's root, this leaf when the shuffle reads a persisted dataset, and
 * without the name they were not matched by the computation of the same partition from lineage after a restart,
 * which wrote them a second time.
 */
function persistedLeaf(spec: DatasetSpec, status: 'stored' | 'cached'): DatasetSpec {
  const { id, numPartitions, partitioner, persist, generatedAs } = spec;
  return {
    id,
    type: status,
    numPartitions,
    deps: [],
    ...(partitioner ? { partitioner } : {}),
    ...(persist ? { persist } : {}),
    ...(generatedAs ? { generatedAs } : {}),
    args: {},
  };
}
