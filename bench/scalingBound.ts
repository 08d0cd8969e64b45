/**
 * What the engine itself would cost the scaling curve at thread counts this machine may not have. Two measures
 * that do not need the cores, and the bound on parallel efficiency they give together:
 *
 * - **Fixed cost per batch at N partitions**: the processing time of batches that carry almost nothing (4 lines
 *   a partition at 16), run with N partitions on N worker threads. It is what the driver, the thread messages and
 *   the shuffle's bookkeeping cost a batch however little data it has. On a machine with fewer cores than N the
 *   threads take turns, so the figure is, if anything, too high.
 * - **Task imbalance at N partitions**: each stage waits for its slowest task. Run on one thread, where no task
 *   competes with another, the N tasks' times show how unevenly the work is spread: Σ over stages of the slowest
 *   task, over Σ over stages of (all the stage's task time / N). 1.00 is perfectly even.
 *
 * With batches sized so that each thread's share lasts one interval T, a batch at N threads takes about
 * imbalance × T + fixed cost, so efficiency is at most T / (imbalance × T + fixed cost). Memory bandwidth, shared
 * caches and clock speeds under load are not in the bound: only a machine with the cores shows those.
 */
import type { BatchInfo } from '../lib/scheduler/StreamingListener';
import { BATCH_INTERVAL_MS } from './jobs';
import { median } from './stats';
import { logicalRun, type Workload } from './sustainableRate';

/** What the engine costs the curve at one partition count. */
export interface ScalingBound {
  readonly partitions: number;
  /** Median processing time of a near-empty batch at N partitions on N threads, in ms. */
  readonly fixedMs: number;
  /** Median over batches of Σ slowest task / Σ (task time / N), on one thread. */
  readonly imbalance: number;
  /** Lines a partition in the imbalance runs. */
  readonly linesPerPartition: number;
  /** T / (imbalance × T + fixedMs), with T the batch interval. */
  readonly efficiencyBound: number;
}

/** A near-empty batch: a few lines for each of up to 16 partitions. */
const NEAR_EMPTY_LINES_PER_SEC = 64;

export async function scalingBound(
  workload: Workload,
  partitions: number,
  linesPerPartition: number,
): Promise<ScalingBound> {
  const fixedMs = await fixedCostPerBatch(workload, partitions);
  const imbalance = await taskImbalance(workload, partitions, linesPerPartition);
  return {
    partitions,
    fixedMs,
    imbalance,
    linesPerPartition,
    efficiencyBound: BATCH_INTERVAL_MS / (imbalance * BATCH_INTERVAL_MS + fixedMs),
  };
}

async function fixedCostPerBatch(workload: Workload, partitions: number): Promise<number> {
  const { batches } = await logicalRun(
    workload,
    NEAR_EMPTY_LINES_PER_SEC,
    { workers: partitions, partitions },
    30,
  );
  // The first batches start the threads and warm their JIT; the fixed cost is that of a running stream.
  return median(batches.slice(5).map((b) => b.processingTimeMs));
}

async function taskImbalance(
  workload: Workload,
  partitions: number,
  linesPerPartition: number,
): Promise<number> {
  const { batches } = await logicalRun(
    workload,
    linesPerPartition * partitions,
    { workers: 1, partitions },
    5,
  );
  return median(batches.slice(1).map((b) => imbalanceOf(b, partitions)));
}

/** Σ over the batch's stages of the slowest task, over Σ of the stage's task time shared over `partitions`. */
export function imbalanceOf(batch: BatchInfo, partitions: number): number {
  let slowest = 0;
  let even = 0;
  for (const op of batch.outputOps ?? [])
    for (const job of op.jobs)
      for (const stage of job.stages) {
        if (stage.tasks.length === 0) continue;
        slowest += Math.max(...stage.tasks.map((t) => t.durationMs));
        even += stage.tasks.reduce((sum, t) => sum + t.durationMs, 0) / partitions;
      }
  return even > 0 ? slowest / even : 1;
}
