import type { ActionSpec, DatasetSpec } from '../dataset/Dataset';
import type { ShuffleWriteSpec } from '../dataset/Dependency';
import type { StorageLevel } from '../dataset/StorageLevel';
import type { DeadLetter } from '../dataset/TaskContext';

/**
 * The plain-JSON plan a runner executes. The coordinator builds it from the stream graph each batch; a task
 * carries everything it needs except code, which every process rebuilds from the job.
 */

/** A set of datasets computed together, one task per partition, ending at a shuffle or at the job's result. */
export interface StagePlan {
  readonly stageId: number;
  /** The stage's datasets, parents before children. */
  readonly datasets: readonly DatasetSpec[];
  /** The dataset whose partitions the tasks produce. */
  readonly rootId: number;
  /** One task per partition of the root. */
  readonly numPartitions: number;
  /** Stages that must finish first (they write the shuffles this stage reads). */
  readonly parentStageIds: readonly number[];
  /** The shuffles this stage reads. */
  readonly shuffleReads: readonly number[];
  /** Set on a map stage: how its output is partitioned and written. */
  readonly shuffleWrite?: ShuffleWriteSpec;
  /**
   * Set on the merge stage of a combining shuffle (see `ShuffleMerger`): task g merges the map outputs of
   * group g. It has no datasets; its statuses replace the map stage's for the stages that read the shuffle.
   */
  readonly shuffleMerge?: ShuffleMergeSpec;
  /** `driver` when a function of the stage only exists in the driver (created inside foreachRDD). */
  readonly runOn: 'any' | 'driver';
}

/** The merge step of a combining shuffle, as a plan carries it. */
export interface ShuffleMergeSpec {
  readonly shuffleId: number;
  /** The driver that planned it, as in `ShuffleWriteSpec.keySpace`. */
  readonly keySpace?: string;
  /** Map outputs per merge task: group g is map tasks [g·groupSize, (g+1)·groupSize). */
  readonly groupSize: number;
}

/** One job: the stages an output operation needs for one batch. */
export interface JobPlan {
  readonly jobId: number;
  readonly batchTime: number;
  /** Parents before children; the last stage is the result stage. */
  readonly stages: readonly StagePlan[];
  readonly resultStageId: number;
  readonly action: ActionSpec;
}

/** Where a map task's shuffle output is, and the byte range of each reduce partition (Spark's MapStatus). */
export interface MapStatus {
  readonly key: string;
  /** `offsets[r]` to `offsets[r + 1]` is reduce partition r; equal offsets mean nothing to read. */
  readonly offsets: readonly number[];
  /**
   * A small map output travels with the statuses instead of through storage: the JSON text of each reduce
   * partition's segment, by reduce partition. The scheduler gives each task only the segments it reads, so no
   * storage request is made for it at all.
   */
  readonly inline?: Readonly<Record<number, string>>;
}

/** One task: a stage and a partition, with the map outputs of the shuffles it reads. */
export interface TaskPlan {
  readonly jobId: number;
  readonly batchTime: number;
  readonly stage: StagePlan;
  readonly partition: number;
  readonly attempt: number;
  /**
   * Set on a speculative copy of a straggling attempt (see `SpeculationPolicy`). A copy computes what the
   * original does; only its shuffle output goes to a key of its own (see `shuffleKey`), so the map statuses
   * of the attempt that won never point into bytes the other one wrote.
   */
  readonly speculative?: true;
  /**
   * The oldest batch the driver has not completed, when it is older than `batchTime`: batches run side by side
   * (`concurrentJobs`, or a late batch's jobs ahead of a window's slide), so a task evicts from its process's
   * memory only the persisted partitions that no batch from this one on reads. Absent: `batchTime`.
   */
  readonly evictBefore?: number;
  /**
   * The driver run that planned the task (`PersistenceTracker.run`): a persisted partition a process keeps in
   * memory serves, in place of computing it, only tasks of the run that made it. Absent: any run's.
   */
  readonly driverRun?: string;
  /**
   * How the driver's log lines name the batch after the word "batch", when that says more than its stream time:
   * on the real clock, with the date the Streaming UI shows (`3000 ms (2026/11/30 21:40:03 UTC)`, see
   * `batchLogLabel`), so that a worker's line for the task names the batch as the coordinator's lines do. Absent:
   * `<batchTime> ms`.
   */
  readonly batchLabel?: string;
  /** Set on a result task. */
  readonly action?: ActionSpec;
  /** For each shuffle the stage reads, the status of every map task, in map-partition order. */
  readonly shuffleInputs: Readonly<Record<number, readonly MapStatus[]>>;
}

/** A persisted partition a task kept, for the driver's persistence tracker. */
export interface PersistedPartition {
  readonly key: string;
  readonly partition: number;
  readonly level: StorageLevel;
  readonly numPartitions: number;
}

/** What a task measured. */
export interface TaskMetrics {
  readonly durationMs: number;
  /** The part of `durationMs` spent in block-store calls. */
  readonly storageMs: number;
  readonly recordsOut: number;
  readonly shuffleBytesWritten: number;
  readonly shuffleBytesRead: number;
  readonly storageRequests: number;
}

/** A task's outcome: failures are data, so the scheduler can retry them. */
export type TaskResult =
  | {
      readonly ok: true;
      readonly stageId: number;
      readonly partition: number;
      readonly mapStatus?: MapStatus;
      readonly result?: unknown;
      readonly metrics: TaskMetrics;
      readonly deadLetters: readonly DeadLetter[];
      readonly persisted: readonly PersistedPartition[];
    }
  | {
      readonly ok: false;
      readonly stageId: number;
      readonly partition: number;
      readonly error: string;
      /**
       * Where the failing dataset came from (`DatasetSpec.origin`): the op and JSON path of a job document, or
       * the source line of a TypeScript job. Absent when the failure was outside every dataset (a storage call).
       */
      readonly origin?: string;
      /**
       * The stream whose own dataset of the batch (`Dataset.generatingStream`) failed innermost: for an input
       * stream's dataset, a read of its input failed (a file gone), and the Streaming UI gives that stream the error.
       * Its id, not its origin, which two streams made on one source line share.
       */
      readonly stream?: string;
      /** Set when the task needed a memory copy that is gone: the job replans instead of retrying. */
      readonly cacheMiss?: string;
      /**
       * Set when a map output the task read is missing from the store: the scheduler recomputes it and runs the
       * stage again instead of retrying the task (see `FetchFailedError`).
       */
      readonly fetchFailed?: { readonly shuffleId: number; readonly keys: readonly string[] };
    };
