/** What the trend reads of a completed batch. */
export interface BatchDelays {
  readonly totalDelayMs: number;
  readonly schedulingDelayMs: number;
}

/** How many earlier batches a delay is compared with: their median, so one odd batch moves nothing. */
const COMPARED_WITH = 5;

/**
 * The stability signal of a streaming job: for how many batches in a row the total delay has grown.
 *
 * Spark's rule of thumb is that a configuration is stable when the total delay stays flat: batches are processed
 * as fast as they arrive. A delay that keeps growing means work piles up and will keep piling up, so the length
 * of the current run of growing batches is what the CloudWatch alarm, the CLI and the Streaming UI watch.
 *
 * A batch counts as growing when both hold:
 * - it waited more than a batch interval to start, so a whole batch's work was queued ahead of it. A stable job,
 *   backpressure at its limit included, starts each batch within an interval; a job that falls behind does not;
 * - its total delay is above the median of the {@link COMPARED_WITH} batches before it.
 *
 * Comparing with the batch just before was too fragile: processing times vary, and one batch faster than its
 * predecessor reset the count. In a simulated queue (40 runs of 300 batches each, `test/engine/delayTrend.test.ts`
 * has its code), a job 10% over its capacity with processing times spread ±45% was called unstable in 21 runs of
 * 40 (median batch 68), and 25% over with `concurrentJobs: 2`, where neighbours finish out of step, in 3 of 40,
 * while their delays grew by tens of seconds. With this rule: 40 of 40, at median batches 31 and 24. A job at 75%
 * of its capacity is never called unstable, nor one at 90% with two jobs at once. The price is a job at 95% with
 * widely spread times, whose queue stays long for dozens of batches: 7 runs of 40 (2 before).
 *
 * @example
 * const trend = new DelayTrend(1000);
 * for (const info of batches) if (trend.observe(info) >= 10) console.warn('unstable');
 */
export class DelayTrend {
  private readonly recent: number[] = [];
  private run = 0;

  /** @param batchIntervalMs the job's batch interval: waiting longer than this to start means work queued */
  constructor(private readonly batchIntervalMs: number) {}

  /** Adds a completed batch (in batch-time order) and returns the number of batches in a row whose delay grew. */
  observe(batch: BatchDelays): number {
    const queued = batch.schedulingDelayMs > this.batchIntervalMs;
    const above = this.recent.length > 0 && batch.totalDelayMs > median(this.recent);
    this.run = queued && above ? this.run + 1 : 0;
    this.recent.push(batch.totalDelayMs);
    if (this.recent.length > COMPARED_WITH) this.recent.shift();
    return this.run;
  }

  /** The batches in a row whose total delay grew, up to the last one observed. */
  get growingFor(): number {
    return this.run;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
