import type { DeadLetter } from '../dataset/TaskContext';
import type { OutputEvent } from '../dstream/DStreamOps';

/** What one batch took: Spark's BatchInfo, the signal that shows whether a configuration is stable. */
export interface BatchInfo {
  readonly batchTime: number;
  /** Records that entered through input streams. */
  readonly records: number;
  /** From the batch's due time until its first job started. */
  readonly schedulingDelayMs: number;
  /** From the first job's start to the last job's end. */
  readonly processingTimeMs: number;
  /** Scheduling delay plus processing time. If it grows batch after batch, the configuration is unstable. */
  readonly totalDelayMs: number;
  readonly jobs: number;
  readonly stages: number;
  /** Stages that ran in the driver because their functions exist only there. */
  readonly driverStages: number;
  readonly tasks: number;
  readonly taskAttempts: number;
  /** Speculative copies launched for straggling tasks (see `SpeculationPolicy`). */
  readonly speculativeTasks: number;
  /** Speculative copies whose result was the one used: the straggler lost. */
  readonly speculativeWins: number;
  readonly shuffleBytes: number;
  readonly storageRequests: number;
  /** Bytes of the jobs' JSON plans; flat over time when checkpoints cut the lineage. */
  readonly planBytes: number;
  /** Where the processing time went: planning, dispatch (beyond each stage's slowest task), task compute and
   * task storage (the last two summed over tasks, which run in parallel), in ms. */
  readonly breakdown: {
    readonly planningMs: number;
    readonly dispatchMs: number;
    readonly taskComputeMs: number;
    readonly taskStorageMs: number;
  };
  readonly deadLetters: number;
  /** What the batch cost, where the runtime can tell (the serverless coordinator): see {@link BatchCost}. */
  readonly cost?: BatchCost;
  /** Set when the batch failed: the reason. */
  readonly error?: string;
}

/**
 * A batch's cost report: what it used (Lambda GB-seconds and invocations, S3 requests by billing class, Kinesis
 * GetRecords calls) and what that comes to in dollars at the runtime's prices.
 */
export interface BatchCost {
  readonly records: number;
  readonly workerGbSeconds: number;
  readonly coordinatorGbSeconds: number;
  readonly workerInvocations: number;
  readonly coordinatorInvocations: number;
  /** Requests billed as PUT, COPY, POST or LIST. */
  readonly s3WriteRequests: number;
  /** Requests billed as GET. */
  readonly s3ReadRequests: number;
  readonly kinesisGetRecords: number;
  readonly lambdaDollars: number;
  readonly s3Dollars: number;
  readonly kinesisDollars: number;
  /** The batch's total, in US dollars. */
  readonly dollars: number;
  /** `dollars` per million records in; absent for a batch without records. */
  readonly dollarsPerMillionRecords?: number;
  /** Which prices: region and date, or `SLUICE_PRICES`. */
  readonly prices: string;
}

/** Receives the events of a running stream (Spark's StreamingListener). */
export interface StreamingListener {
  /** A batch finished (or failed: see `error`). */
  onBatchCompleted?(info: BatchInfo): void;
  /** An output operation produced a batch. */
  onOutput?(event: OutputEvent): void;
  /** Records that functions could not process, with their reasons. */
  onDeadLetters?(letters: readonly DeadLetter[]): void;
}
