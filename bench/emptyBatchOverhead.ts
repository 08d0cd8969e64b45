import { runTrial } from './runTrial';
import { median, percentile } from './stats';

/** One run of the empty job. */
export interface EmptyBatchRun {
  /** Median processing time per batch, in milliseconds. */
  readonly medianMs: number;
  /** Mean processing time per batch, in milliseconds: finer than the whole-millisecond median. */
  readonly meanMs: number;
  /** 90th percentile of processing time per batch, in milliseconds. */
  readonly p90Ms: number;
  /** Median total delay per batch (input step included), in milliseconds. */
  readonly medianTotalMs: number;
}

/** What the scheduler costs per batch when there is nothing to process. */
export interface EmptyBatchOverhead {
  /** Worker threads of the runs; 0 means in-process. */
  readonly workers: number;
  readonly batches: number;
  readonly runs: readonly EmptyBatchRun[];
  /** The median of the runs' medians. */
  readonly medianMs: number;
}

/**
 * Times `batches` back-to-back batches of the `empty` job (an empty queue stream and a count) on the logical
 * clock, `repeats` times, each in a fresh runtime.
 */
export async function timeEmptyBatches(
  workers: number,
  batches: number,
  repeats: number,
): Promise<EmptyBatchOverhead> {
  const runs: EmptyBatchRun[] = [];
  for (let r = 0; r < repeats; r++) {
    const trial = await runTrial({ exportName: 'empty', clock: 'logical', batches, workers });
    if (trial.error) throw new Error(`the empty job failed with ${workers} workers: ${trial.error}`);
    const processing = trial.batches.map((b) => b.processingTimeMs);
    runs.push({
      medianMs: median(processing),
      meanMs: processing.reduce((a, b) => a + b, 0) / Math.max(1, processing.length),
      p90Ms: percentile(processing, 90),
      medianTotalMs: median(trial.batches.map((b) => b.totalDelayMs)),
    });
  }
  return { workers, batches, runs, medianMs: median(runs.map((r) => r.medianMs)) };
}
