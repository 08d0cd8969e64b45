/**
 * The stability signal of a streaming job: for how many batches in a row the total delay has grown.
 *
 * Spark's rule of thumb is that a configuration is stable when the total delay stays flat: batches are processed
 * as fast as they arrive. A delay that grows batch after batch means work piles up and will keep piling up, so
 * the length of the current run of increases is what the CloudWatch alarm and the CLI watch. A single slow batch
 * resets nothing by itself, but the next faster one does.
 *
 * @example
 * const trend = new DelayTrend();
 * for (const info of batches) if (trend.observe(info.totalDelayMs) >= 10) console.warn('unstable');
 */
export class DelayTrend {
  private last: number | undefined;
  private run = 0;

  /** Adds a batch's total delay (in order) and returns the number of batches in a row whose delay grew. */
  observe(totalDelayMs: number): number {
    this.run = this.last !== undefined && totalDelayMs > this.last ? this.run + 1 : 0;
    this.last = totalDelayMs;
    return this.run;
  }

  /** The batches in a row whose total delay grew, up to the last one observed. */
  get growingFor(): number {
    return this.run;
  }
}
