import type { BatchInfo, StreamingListener } from '../scheduler/StreamingListener';

/** A batch the UI shows as active: generated and waiting for a job slot, or running (Spark's active batches). */
export interface ActiveBatch {
  readonly batchTime: number;
  /** Records from the input streams. */
  readonly records: number;
  readonly status: 'queued' | 'processing';
  /** When it was due, ms since the epoch. */
  readonly dueAtMs: number;
  /** When its first job started, ms since the epoch; absent while queued. */
  readonly startedAtMs?: number;
  /** From its due time to its start, or, while queued, to the snapshot: the wait so far. */
  readonly schedulingDelayMs: number;
  /** From its start to the snapshot; absent while queued. */
  readonly processingTimeMs?: number;
  /** Its output operations (Spark's "Output Ops: Succeeded/Total"), those done, and those of them that failed. */
  readonly outputOpsTotal: number;
  readonly outputOpsSucceeded: number;
  readonly outputOpsFailed: number;
}

/** What is known of an active batch between events; the delays are worked out when a snapshot is taken. */
type Tracked = Omit<ActiveBatch, 'schedulingDelayMs' | 'processingTimeMs'>;

/**
 * The batches generated and not yet completed, as a listener of the run: the Streaming UI's active batches
 * locally, and on AWS what the coordinator writes beside its kept metrics (`jobs/<job>/active.json`).
 */
export class ActiveBatches implements StreamingListener {
  private readonly batches = new Map<number, Tracked>();

  onBatchSubmitted(batchTime: number, records: number, dueAtMs: number, outputOps: number): void {
    this.batches.set(batchTime, {
      batchTime,
      records,
      status: 'queued',
      dueAtMs,
      outputOpsTotal: outputOps,
      outputOpsSucceeded: 0,
      outputOpsFailed: 0,
    });
  }

  onBatchStarted(batchTime: number): void {
    const batch = this.batches.get(batchTime);
    if (batch) this.batches.set(batchTime, { ...batch, status: 'processing', startedAtMs: Date.now() });
  }

  onOutputOpCompleted(batchTime: number, _id: number, error?: string): void {
    const batch = this.batches.get(batchTime);
    if (!batch) return;
    this.batches.set(batchTime, {
      ...batch,
      outputOpsSucceeded: batch.outputOpsSucceeded + (error === undefined ? 1 : 0),
      outputOpsFailed: batch.outputOpsFailed + (error === undefined ? 0 : 1),
    });
  }

  onBatchCompleted(info: BatchInfo): void {
    this.batches.delete(info.batchTime);
  }

  /** The oldest active batch's time, or undefined when none is active. */
  oldestBatchTime(): number | undefined {
    let oldest: number | undefined;
    for (const batchTime of this.batches.keys())
      if (oldest === undefined || batchTime < oldest) oldest = batchTime;
    return oldest;
  }

  /** The active batches at `nowMs`, newest first, with their delays so far. */
  snapshot(nowMs = Date.now()): ActiveBatch[] {
    return [...this.batches.values()]
      .sort((a, b) => b.batchTime - a.batchTime)
      .map((b) => ({
        ...b,
        schedulingDelayMs: Math.max(0, (b.startedAtMs ?? nowMs) - b.dueAtMs),
        ...(b.startedAtMs !== undefined ? { processingTimeMs: Math.max(0, nowMs - b.startedAtMs) } : {}),
      }));
  }
}
