import type { BatchInfo } from '../scheduler/StreamingListener';
import { METRIC, METRICS_NAMESPACE } from './deploymentContract';

/** Counters the coordinator adds to a batch's metrics: Lambda invocations. */
export interface RunnerCounters {
  readonly invokes: number;
  /** Tasks of small stages run inside the coordinator (no round trip), since the coordinator started. */
  readonly coordinatorTasks: number;
  /** Batches in a row whose total delay grew (see `DelayTrend`): the stability signal the alarm watches. */
  readonly delayGrowingFor: number;
}

/**
 * One batch's metrics as a CloudWatch embedded-metric-format log line: CloudWatch turns the line into metrics
 * (namespace Sluice, per job and across jobs) without any API call, and the same numbers are kept for status events.
 */
export function emfLine(job: string, info: BatchInfo, counters: RunnerCounters): string {
  const metrics: Record<string, [number, string]> = {
    [METRIC.schedulingDelay]: [info.schedulingDelayMs, 'Milliseconds'],
    [METRIC.processingTime]: [info.processingTimeMs, 'Milliseconds'],
    [METRIC.totalDelay]: [info.totalDelayMs, 'Milliseconds'],
    RecordsIn: [info.records, 'Count'],
    Tasks: [info.tasks, 'Count'],
    SpeculativeTasks: [info.speculativeTasks, 'Count'],
    SpeculativeWins: [info.speculativeWins, 'Count'],
    Invokes: [counters.invokes, 'Count'],
    CoordinatorStages: [info.driverStages, 'Count'],
    CoordinatorTasks: [counters.coordinatorTasks, 'Count'],
    StorageRequests: [info.storageRequests, 'Count'],
    ShuffleBytes: [info.shuffleBytes, 'Bytes'],
    DeadLetters: [info.deadLetters, 'Count'],
    [METRIC.delayGrowingFor]: [counters.delayGrowingFor, 'Count'],
    // The cost report (see `batchCost`): what the batch used, and its dollars at the coordinator's prices.
    ...(info.cost
      ? ({
          CostDollars: [info.cost.dollars, 'None'],
          WorkerGbSeconds: [info.cost.workerGbSeconds, 'None'],
          CoordinatorGbSeconds: [info.cost.coordinatorGbSeconds, 'None'],
          WorkerInvocations: [info.cost.workerInvocations, 'Count'],
          CoordinatorInvocations: [info.cost.coordinatorInvocations, 'Count'],
          S3WriteRequests: [info.cost.s3WriteRequests, 'Count'],
          S3ReadRequests: [info.cost.s3ReadRequests, 'Count'],
          KinesisGetRecords: [info.cost.kinesisGetRecords, 'Count'],
        } satisfies Record<string, [number, string]>)
      : {}),
  };
  return JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          // Per job, and across jobs (no dimension): the stack's alarm watches every job without knowing names.
          Dimensions: [['Job'], []],
          Metrics: Object.entries(metrics).map(([Name, [, Unit]]) => ({ Name, Unit })),
        },
      ],
    },
    Job: job,
    BatchTime: info.batchTime,
    ...Object.fromEntries(Object.entries(metrics).map(([name, [value]]) => [name, value])),
    // Dollars per million records is a ratio, not a sum: a property of the line, not a metric.
    ...(info.cost?.dollarsPerMillionRecords !== undefined
      ? { CostDollarsPerMillionRecords: info.cost.dollarsPerMillionRecords }
      : {}),
    ...(info.cost ? { CostPrices: info.cost.prices } : {}),
    ...(info.error ? { Error: info.error } : {}),
  });
}
