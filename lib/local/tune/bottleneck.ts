import type { BatchInfo, StageInfo } from '../../scheduler/StreamingListener';

/** Where a stage's time went, in ms summed over the judged batches (task times summed over tasks). */
export interface TimeSplit {
  /** Task time outside block-store calls. */
  readonly computeMs: number;
  /** Task time in block-store calls of a stage that moves no shuffle bytes (input blocks, persisted data). */
  readonly storageMs: number;
  /** Task time in block-store calls of a stage that reads or writes a shuffle. */
  readonly shuffleMs: number;
  /** Time the driver spent on the stage: sending tasks and waiting for results, or all of it for a driver stage. */
  readonly driverMs: number;
}

/** The stage that took the most time at a rate, and where its time went. */
export interface Bottleneck {
  /** `output 0, job stage 1`: the stage's place in the batch, the same in every batch of a job. */
  readonly stage: string;
  /** Its median duration per batch, in ms. */
  readonly medianDurationMs: number;
  readonly split: TimeSplit;
  /** The largest part of `split`, in words: `compute`, `storage`, `shuffle` or `driver`. */
  readonly mostlyIn: 'compute' | 'storage' | 'shuffle' | 'driver';
}

/** Every stage of a batch, keyed by its place (output, job, stage), which repeats from batch to batch. */
function stagesOf(info: BatchInfo): Map<string, StageInfo> {
  // Absent in metrics from before the batch page, and where a runtime does not record stages.
  const ops = info.outputOps ?? [];
  const stages = new Map<string, StageInfo>();
  for (const op of ops) {
    op.jobs.forEach((job, j) => {
      for (const stage of job.stages) {
        const what = stage.description ? `: ${stage.description}` : '';
        stages.set(`output ${op.id}, job ${j}, stage ${stage.stageId}${what}`, stage);
      }
    });
  }
  return stages;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return ((sorted[Math.floor(mid)] ?? 0) + (sorted[Math.ceil(mid)] ?? 0)) / 2;
}

/**
 * Without per-stage metrics, the batches' own breakdown: the time of all stages together, the same split.
 * Undefined for no batches.
 */
function wholeBatches(batches: readonly BatchInfo[]): Bottleneck | undefined {
  if (batches.length === 0) return undefined;
  const sum = (of: (b: BatchInfo) => number) => batches.reduce((n, b) => n + of(b), 0);
  const storage = sum((b) => b.breakdown.taskStorageMs);
  const shuffles = batches.some((b) => b.shuffleBytes > 0);
  return summarize('all stages (no per-stage metrics)', median(batches.map((b) => b.processingTimeMs)), {
    computeMs: sum((b) => b.breakdown.taskComputeMs),
    storageMs: shuffles ? 0 : storage,
    shuffleMs: shuffles ? storage : 0,
    driverMs: sum((b) => b.breakdown.planningMs + b.breakdown.dispatchMs),
  });
}

function summarize(stage: string, medianMs: number, split: TimeSplit): Bottleneck {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const parts = [
    ['compute', split.computeMs],
    ['storage', split.storageMs],
    ['shuffle', split.shuffleMs],
    ['driver', split.driverMs],
  ] as const;
  const mostlyIn = parts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  return {
    stage,
    medianDurationMs: round(medianMs),
    split: {
      computeMs: round(split.computeMs),
      storageMs: round(split.storageMs),
      shuffleMs: round(split.shuffleMs),
      driverMs: round(split.driverMs),
    },
    mostlyIn,
  };
}

/**
 * Names the stage with the largest median duration over `batches`, and splits its time: compute and storage
 * from its tasks, storage counted as shuffle when the stage moves shuffle bytes, and as driver the stage's
 * duration beyond its slowest task (dispatch), or the whole of a stage that ran in the driver (`in-process`
 * while the job has worker threads). Without per-stage metrics, the batches' breakdown for all stages together.
 */
export function findBottleneck(batches: readonly BatchInfo[]): Bottleneck | undefined {
  const byStage = new Map<string, StageInfo[]>();
  for (const info of batches) {
    for (const [key, stage] of stagesOf(info)) byStage.set(key, [...(byStage.get(key) ?? []), stage]);
  }
  let slowest: { key: string; medianMs: number; runs: StageInfo[] } | undefined;
  for (const [key, runs] of byStage) {
    const medianMs = median(runs.map((s) => s.durationMs));
    if (!slowest || medianMs > slowest.medianMs) slowest = { key, medianMs, runs };
  }
  if (!slowest) return wholeBatches(batches);
  let computeMs = 0;
  let storageMs = 0;
  let shuffleMs = 0;
  let driverMs = 0;
  for (const s of slowest.runs) {
    if (s.ranOn === 'in-process' || s.ranOn.includes('driver')) {
      driverMs += s.durationMs;
      continue;
    }
    computeMs += s.computeMs;
    if (s.shuffleBytesRead + s.shuffleBytesWritten > 0) shuffleMs += s.storageMs;
    else storageMs += s.storageMs;
    driverMs += Math.max(0, s.durationMs - Math.max(0, ...s.tasks.map((t) => t.durationMs)));
  }
  return summarize(slowest.key, slowest.medianMs, { computeMs, storageMs, shuffleMs, driverMs });
}
