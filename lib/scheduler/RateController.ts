import type { DStreamGraph } from '../dstream/DStreamGraph';
import { PIDRateEstimator, type PIDRateEstimatorOptions } from './PIDRateEstimator';
import type { BatchInfo, StreamingListener } from './StreamingListener';

/** A job's backpressure settings (Spark's `spark.streaming.backpressure.*`). */
export interface BackpressureOptions extends PIDRateEstimatorOptions {
  /** Let the batches' delays set how fast the sources deliver. Default false. */
  readonly enabled?: boolean;
  /** The rate of each source, records per second, until the first estimate. Default: none (its `maxRatePerSec`). */
  readonly initialRatePerSec?: number;
}

/**
 * Backpressure (Spark's RateController): a listener that, after each completed batch, feeds every rate-limited
 * input stream's records, the batch's processing time and its scheduling delay to that stream's
 * {@link PIDRateEstimator}, and sets the new estimate as the stream's bound (its `RateLimit`, under its
 * `maxRatePerSec`). The next batch that stream generates takes at most that many records a second; the rest wait
 * in the source. It runs wherever the engine's scheduler runs, locally and in the serverless coordinator.
 */
export class RateController implements StreamingListener {
  private readonly estimators = new Map<string, PIDRateEstimator>();

  constructor(
    private readonly graph: DStreamGraph,
    private readonly batchIntervalMs: number,
    private readonly options: BackpressureOptions,
  ) {
    // A bad gain fails when the job is built, not after its first batch.
    new PIDRateEstimator(batchIntervalMs, options);
  }

  /** Estimates each input's next rate from the batch; a failed batch measures nothing. */
  onBatchCompleted(info: BatchInfo): void {
    if (info.error !== undefined) return;
    for (const input of this.graph.inputs) {
      if (!input.rateLimit) continue;
      let estimator = this.estimators.get(input.id);
      if (!estimator) {
        estimator = new PIDRateEstimator(this.batchIntervalMs, this.options);
        this.estimators.set(input.id, estimator);
      }
      const records = info.inputRecords?.[input.id] ?? 0;
      const rate = estimator.compute(info.batchTime, records, info.processingTimeMs, info.schedulingDelayMs);
      if (rate !== undefined) input.rateLimit.update(rate);
    }
  }
}
