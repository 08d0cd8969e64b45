import type { BatchInfo } from '../scheduler/StreamingListener';

/**
 * The fields of a batch's log line, locally and on Lambda alike: what a query over JSON lines filters and sums on
 * (`filter batchTime = 3000`, `stats max(totalDelayMs)`), beside the sentence of the message.
 */
export function batchFields(info: BatchInfo): Record<string, unknown> {
  return {
    batchTime: info.batchTime,
    records: info.records,
    totalDelayMs: info.totalDelayMs,
    schedulingDelayMs: info.schedulingDelayMs,
    processingTimeMs: info.processingTimeMs,
    tasks: info.tasks,
    taskAttempts: info.taskAttempts,
    deadLetters: info.deadLetters,
    ...(info.cost ? { dollars: info.cost.dollars, workerInvocations: info.cost.workerInvocations } : {}),
    ...(info.error ? { error: info.error } : {}),
  };
}
