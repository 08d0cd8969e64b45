import { type DatasetSpec, sliceBounds } from '../dataset/Dataset';
import { parentPartitions } from '../dataset/Dependency';
import type { ReceivedBlockRef } from '../dataset/ReceivedBlocksDataset';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import { emptyMapStatus } from '../shuffle/ShuffleWriter';

/**
 * The result a task would give, when the plan alone shows it: every partition the task computes is empty by its
 * plan (an empty range of input, reduce segments of 0 bytes) and nothing on the way calls a function on no input,
 * keeps state, persists or writes. Such a task gives what {@link TaskExecutor.run} gives for no records (an empty
 * map output that writes nothing, `[]` or `0` for the action), with no dead letter and no persisted partition, so a
 * runner may return it without sending the task anywhere: in a batch with few records most partitions are empty,
 * and each would cost a thread hop and two structured clones. Undefined when the task must run.
 *
 * What must run even on empty input, as Spark runs it:
 * - a state stream's partition (`mapWithState`, the `cogroup` of `updateStateByKey`, a `stored` or `cached`
 *   partition): it reads its state, runs its update function for every key or its timeouts, and checkpoints;
 * - `mapPartitions` (a user function, called with no record, may return some or have effects) and `glom` (one
 *   empty array per partition);
 * - a persisted dataset: the task writes its partition and reports it to the persistence tracker;
 * - `saveAsTextFiles`: every partition writes its part file, empty or not, as Spark's does;
 * - a merge task of a combining shuffle, and datasets read from files (`textFile`, `directRead`), whose
 *   emptiness the plan does not show.
 */
export function knownEmptyResult(task: TaskPlan): TaskResult | undefined {
  const { stage, partition } = task;
  if (stage.shuffleMerge) return undefined;
  const action = stage.shuffleWrite ? undefined : (task.action ?? { type: 'collect' });
  if (action?.type === 'saveText') return undefined;
  const byId = new Map(stage.datasets.map((spec) => [spec.id, spec]));
  if (!computesNothing(task, byId, stage.rootId, partition)) return undefined;
  return {
    ok: true,
    stageId: stage.stageId,
    partition,
    ...(stage.shuffleWrite
      ? {
          mapStatus: emptyMapStatus(stage.shuffleWrite, partition, task.batchTime, task.speculative === true),
        }
      : { result: action?.type === 'count' ? 0 : [] }),
    metrics: {
      durationMs: 0,
      storageMs: 0,
      recordsOut: 0,
      shuffleBytesWritten: 0,
      shuffleBytesRead: 0,
      storageRequests: 0,
    },
    deadLetters: [],
    persisted: [],
  };
}

/** The per-record kinds of `mapPartitions`: on no record they call nothing and give nothing. */
const PER_RECORD_KINDS: ReadonlySet<unknown> = new Set([
  'map',
  'flatMap',
  'filter',
  'mapValues',
  'flatMapValues',
]);

/**
 * True when partition `partition` of dataset `id` is empty by the plan and computing it calls no function,
 * dead-letters nothing and writes nothing. Any dataset kind not named here must run (see {@link knownEmptyResult}).
 */
function computesNothing(
  task: TaskPlan,
  byId: ReadonlyMap<number, DatasetSpec>,
  id: number,
  partition: number,
): boolean {
  const spec = byId.get(id);
  if (!spec || spec.persist) return false;
  const rangeIsEmpty = (records: number) => {
    const [from, to] = sliceBounds(records, spec.numPartitions, partition);
    return from === to;
  };
  switch (spec.type) {
    case 'shuffled': {
      const dep = spec.deps[0];
      const statuses = dep?.type === 'shuffle' ? task.shuffleInputs[dep.shuffleId] : undefined;
      return (
        statuses?.every((status) => status.offsets[partition] === status.offsets[partition + 1]) === true
      );
    }
    case 'block': {
      // No offsets: a block cleanup deleted, whose read fails naming it (see `BlockDataset.forgotten`).
      const offsets = spec.args.offsets as readonly number[];
      return offsets.length > 0 && offsets[partition] === offsets[partition + 1];
    }
    case 'receivedBlocks':
      return rangeIsEmpty(
        (spec.args.blocks as readonly ReceivedBlockRef[]).reduce((n, block) => n + block.records, 0),
      );
    case 'directInput':
      return rangeIsEmpty((spec.args.end as number) - (spec.args.first as number));
    case 'parallel':
      return rangeIsEmpty((spec.args.data as readonly unknown[]).length);
    case 'mapPartitions':
      if (!PER_RECORD_KINDS.has(spec.args.kind)) return false;
      return narrowParentsComputeNothing(task, byId, spec, partition);
    case 'union':
    case 'coalesced':
      return narrowParentsComputeNothing(task, byId, spec, partition);
    default:
      return false;
  }
}

/** True when every parent partition `partition` of `spec` reads, through narrow dependencies, computes nothing. */
function narrowParentsComputeNothing(
  task: TaskPlan,
  byId: ReadonlyMap<number, DatasetSpec>,
  spec: DatasetSpec,
  partition: number,
): boolean {
  return spec.deps.every(
    (dep) =>
      dep.type !== 'shuffle' &&
      parentPartitions(dep, partition).every((p) => computesNothing(task, byId, dep.parent, p)),
  );
}
