import type { DeadLetter } from '../dataset/TaskContext';
import type { OutputEvent } from '../dstream/DStreamOps';
import type { SourceStatus } from '../source/SourceStatus';

/** What one batch took: Spark's BatchInfo, the signal that shows whether a configuration is stable. */
export interface BatchInfo {
  /** Stream time: ms since the run's start, a multiple of the batch interval. */
  readonly batchTime: number;
  /**
   * When the batch fell due on the wall clock, ms since the epoch: Spark's batch time, which the Streaming UI shows
   * as a date. Only on the system clock; on the logical clock (`--fast`, simulations) batches run back to back and
   * have no such moment, and older metrics lack it.
   */
  readonly dueAtMs?: number;
  /** Records that entered through input streams. */
  readonly records: number;
  /** The records of each input stream, by its id (Spark's `streamIdToInputInfo`); absent in older metrics. */
  readonly inputRecords?: Readonly<Record<string, number>>;
  /**
   * Each input stream by its id, as Spark's `StreamInputInfo`: its name, and what the batch took from it (Spark's
   * metadata: offset ranges, files); absent in older metrics, and in the coordinator's kept metrics but for the
   * newest batches.
   */
  readonly inputs?: Readonly<Record<string, InputStreamInfo>>;
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
  /** Each output operation with its jobs, stages and tasks, for the UI's batch page; absent in older metrics. */
  readonly outputOps?: readonly OutputOpInfo[];
}

/**
 * One input stream of a batch: its name, what the batch took from it, and how the stream was doing as the batch
 * completed (Spark's receiver info): `state` for a source with a connection (a socket: `connected` or `retrying`),
 * `lastError` once it has had one (its time and a line of its class and text). Both absent when there is nothing to say.
 */
export interface InputStreamInfo extends SourceStatus {
  /** The stream's name: a JSON job's source name, or its source and the line that made it (`job.ts:14 (socket(…))`). */
  readonly name: string;
  /**
   * What the batch took, one short line per file range, shard, object, block or index range (Spark's input
   * metadata); at most {@link INPUT_LINES_KEPT}, the rest counted in `tookNotShown`. Absent when the source says
   * nothing of it.
   */
  readonly took?: readonly string[];
  /** Lines of `took` beyond those kept. */
  readonly tookNotShown?: number;
}

/** Lines of what an input stream took that a batch's metrics keep: enough to see it, bounded for a big folder. */
export const INPUT_LINES_KEPT = 10;

/** One output operation of a batch (Spark's OutputOperationInfo), with the jobs it ran. */
export interface OutputOpInfo {
  /** Its position among the batch's output operations, in the order the job defines them. */
  readonly id: number;
  /** The output's name (the JSON stream name, or the operation). */
  readonly name: string;
  /**
   * Where the output was written (Spark's call site in its description): `job.ts:14 (print(map))` in a TypeScript
   * job, the field's path in a JSON job; absent when unknown and in older metrics.
   */
  readonly origin?: string;
  /** Set when it is no output: a window's parent computed in its own batch, ahead of the window's slide. */
  readonly ahead?: true;
  readonly durationMs: number;
  /** Set when the operation failed: the reason, in full. */
  readonly error?: string;
  readonly jobs: readonly JobInfo[];
}

/** One job an output operation ran: the stages of one action. */
export interface JobInfo {
  readonly jobId: number;
  /** The action: `collect`, `count`, `take`, `saveText`. */
  readonly action: string;
  /** Time spent turning the job's datasets into stages, in ms. */
  readonly planningMs: number;
  /** From the job's start to its result or its failure, its planning before it not counted, in ms; absent while it runs and in older metrics. */
  readonly durationMs?: number;
  /** The stages of its plan; `stages` holds those that completed, fewer when the job failed. Absent in older metrics. */
  readonly stagesTotal?: number;
  /** The stages that completed. */
  readonly stages: readonly StageInfo[];
}

/** One stage of a job, as it ran. */
export interface StageInfo {
  readonly stageId: number;
  /** The types of the stage's datasets, parents first (`map → flatMap`); `shuffle merge` for a merge stage. */
  readonly description: string;
  /** The runner its tasks ran on (`in-process`, `worker-threads(2)`, `lambda`, or the driver's). */
  readonly ranOn: string;
  /** From the stage's start to its slowest task's end, in ms. */
  readonly durationMs: number;
  /** Records the stage read from the shuffles of its parent stages; absent for a stage reading input. */
  readonly recordsIn?: number;
  readonly recordsOut: number;
  readonly shuffleBytesRead: number;
  readonly shuffleBytesWritten: number;
  readonly storageRequests: number;
  /** Task time outside block-store calls, summed over tasks, in ms. */
  readonly computeMs: number;
  /** Task time in block-store calls, summed over tasks, in ms. */
  readonly storageMs: number;
  readonly tasks: readonly TaskInfo[];
}

/** One task of a stage: the attempt whose result was used. */
export interface TaskInfo {
  readonly partition: number;
  readonly durationMs: number;
  /** Attempts made, the successful one included. */
  readonly attempts: number;
  /** Whether a speculative copy was launched, and whether it was the one used. */
  readonly speculative?: 'launched' | 'won';
}

/** What one batch used on AWS, as the coordinator counted it. */
export interface BatchUsage {
  /** Records that entered the batch. */
  readonly records: number;
  /** Worker Lambda duration × memory, in GB-seconds. */
  readonly workerGbSeconds: number;
  /** Coordinator Lambda duration × memory, in GB-seconds. */
  readonly coordinatorGbSeconds: number;
  readonly workerInvocations: number;
  readonly coordinatorInvocations: number;
  /** S3 requests billed as PUT, COPY, POST or LIST. */
  readonly s3WriteRequests: number;
  /** S3 requests billed as GET. */
  readonly s3ReadRequests: number;
  readonly kinesisGetRecords: number;
}

/**
 * A batch's cost report: what it used (Lambda GB-seconds and invocations, S3 requests by billing class, Kinesis
 * GetRecords calls) and what that comes to in dollars at the runtime's prices.
 */
export interface BatchCost extends BatchUsage {
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
  /**
   * A batch was generated with `records` from its input streams: its `outputOps` jobs wait for a slot. It was due
   * at `dueAtMs` (ms since the epoch), the moment its scheduling delay counts from.
   */
  onBatchSubmitted?(batchTime: number, records: number, dueAtMs: number, outputOps: number): void;
  /** A batch's first job started. */
  onBatchStarted?(batchTime: number): void;
  /** One of a batch's output operations finished (Spark's onOutputOperationCompleted); `error` when it failed. */
  onOutputOpCompleted?(batchTime: number, id: number, error?: string): void;
  /** A batch finished (or failed: see `error`). */
  onBatchCompleted?(info: BatchInfo): void;
  /** An output operation produced a batch. */
  onOutput?(event: OutputEvent): void;
  /** Records that functions could not process, with their reasons. */
  onDeadLetters?(letters: readonly DeadLetter[]): void;
}
