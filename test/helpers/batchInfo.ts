import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

/**
 * A completed batch's metrics for a test that reads only some of them: the fields given, and the others at a
 * quiet default (one job, stage and task, one attempt, no scheduling delay, no shuffle, storage or dead letters).
 * The total delay defaults to scheduling plus processing, and the breakdown puts all processing in task compute.
 */
export function batchInfo(fields: Partial<BatchInfo> & { readonly batchTime: number }): BatchInfo {
  const schedulingDelayMs = fields.schedulingDelayMs ?? 0;
  const processingTimeMs = fields.processingTimeMs ?? 0;
  return {
    records: 0,
    jobs: 1,
    stages: 1,
    driverStages: 0,
    tasks: 1,
    taskAttempts: 1,
    speculativeTasks: 0,
    speculativeWins: 0,
    shuffleBytes: 0,
    storageRequests: 0,
    planBytes: 0,
    deadLetters: 0,
    breakdown: { planningMs: 0, dispatchMs: 0, taskComputeMs: processingTimeMs, taskStorageMs: 0 },
    totalDelayMs: schedulingDelayMs + processingTimeMs,
    ...fields,
    schedulingDelayMs,
    processingTimeMs,
  };
}
