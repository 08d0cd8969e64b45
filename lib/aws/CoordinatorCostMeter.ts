import type { BatchCost } from '../scheduler/StreamingListener';
import type { AwsPrices } from './AwsPrices';
import { batchCost } from './batchCost';
import type { BatchInvocations } from './LambdaTaskRunner';

/** The coordinator's own counters, read at each batch's end. */
export interface CoordinatorCounters {
  /** Storage read requests the coordinator sent. */
  readonly s3Read: number;
  /** Storage requests the coordinator sent, reads included. */
  readonly s3: number;
  /** Kinesis GetRecords calls its sources made. */
  readonly getRecords: number;
  readonly atMs: number;
}

/** The memory sizes and prices a batch's cost is figured at. */
export interface CostMeterConfig {
  readonly workerMemoryMb: number;
  readonly coordinatorMemoryMb: number;
  readonly prices: AwsPrices;
}

const gb = (mb: number) => mb / 1024;

/**
 * What each batch a coordinator drives costs: the batch pays what the coordinator's counters moved since the
 * previous batch, and its workers' invocations, which the runner counts per batch (it knows each task's batch).
 */
export class CoordinatorCostMeter {
  private before: CoordinatorCounters;
  /** The invocation itself is paid by its first batch. */
  private coordinatorInvocations = 1;

  constructor(
    private readonly counters: () => CoordinatorCounters,
    startedAtMs: number,
    private readonly config: CostMeterConfig,
  ) {
    this.before = { ...counters(), atMs: startedAtMs };
  }

  /** The cost of the batch completing now, with `records` records in and its workers' `workers` usage. */
  batchCompleted(records: number, workers: BatchInvocations): BatchCost {
    const now = this.counters();
    const before = this.before;
    // The coordinator runs the whole time it drives, so each batch pays for the time since the previous one;
    // the workers are billed for their invocations. Workers' storage requests come as one count per task,
    // billed at the PUT rate: an upper bound (their GETs cost less).
    const cost = batchCost(
      {
        records,
        workerGbSeconds: (workers.invokeMs / 1000) * gb(this.config.workerMemoryMb),
        coordinatorGbSeconds: ((now.atMs - before.atMs) / 1000) * gb(this.config.coordinatorMemoryMb),
        workerInvocations: workers.invokes,
        coordinatorInvocations: this.coordinatorInvocations,
        s3WriteRequests: now.s3 - now.s3Read - (before.s3 - before.s3Read) + workers.workerStorageRequests,
        s3ReadRequests: now.s3Read - before.s3Read,
        kinesisGetRecords: now.getRecords - before.getRecords,
      },
      this.config.prices,
    );
    this.before = now;
    this.coordinatorInvocations = 0;
    return cost;
  }
}
