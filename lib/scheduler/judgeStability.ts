import type { BatchInfo } from './StreamingListener';

/**
 * The rule that decides whether a run at a given input rate is sustainable, shared by `npm run bench` and
 * `sluice tune` so both mean the same thing by "the highest rate at which the total delay stays flat".
 * Spark's tuning guide says a configuration is stable when batches are processed as fast as they arrive; this
 * makes that checkable from a short run's batch metrics, with limits a user can read in one sentence.
 */

/** The verdict on one real-time trial. */
export interface Stability {
  readonly stable: boolean;
  /** Why, in a few words: the figure that decided it. */
  readonly reason: string;
}

/** Settings of the stability judgement. */
export interface StabilityRule {
  /** The batches judged, at the end of the run. Default 4. */
  readonly lastBatches?: number;
  /** Every judged total delay must stay below this multiple of the interval. Default 1.5. */
  readonly maxTotalDelayIntervals?: number;
  /**
   * Growth that counts as a trend: total delay that never falls over the judged batches and rises by more
   * than this fraction of the interval overall. Default 0.1, so timer jitter of a few ms is not a trend.
   */
  readonly growthIntervals?: number;
}

/**
 * A run is stable when it ran every planned batch without error and, over its last batches, processing
 * stays below the interval, total delay stays below 1.5 intervals, and total delay does not keep growing.
 */
export function judgeStability(
  batches: readonly BatchInfo[],
  plannedBatches: number,
  intervalMs: number,
  rule: StabilityRule = {},
): Stability {
  const judged = rule.lastBatches ?? 4;
  const failed = batches.find((b) => b.error !== undefined);
  if (failed) return { stable: false, reason: `batch ${failed.batchTime} failed: ${failed.error}` };
  if (batches.length < plannedBatches) {
    return { stable: false, reason: `only ${batches.length} of ${plannedBatches} batches ran` };
  }
  const tail = batches.slice(-judged);
  const slow = tail.find((b) => b.processingTimeMs >= intervalMs);
  if (slow) return { stable: false, reason: `processing ${slow.processingTimeMs} ms ≥ interval` };
  const maxDelay = intervalMs * (rule.maxTotalDelayIntervals ?? 1.5);
  const late = tail.find((b) => b.totalDelayMs >= maxDelay);
  if (late) return { stable: false, reason: `total delay ${late.totalDelayMs} ms ≥ ${maxDelay} ms` };
  const delays = tail.map((b) => b.totalDelayMs);
  const neverFalls = delays.every((d, i) => i === 0 || d >= delays[i - 1]!);
  const growth = delays.at(-1)! - delays[0]!;
  if (neverFalls && growth > intervalMs * (rule.growthIntervals ?? 0.1)) {
    return { stable: false, reason: `total delay grows ${delays.join(' → ')} ms` };
  }
  return { stable: true, reason: `total delay ${Math.min(...delays)}–${Math.max(...delays)} ms, flat` };
}
