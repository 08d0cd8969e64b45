import { batchLogLabel } from '../../scheduler/batchDateLabel';
import type { BatchInfo } from '../../scheduler/StreamingListener';

/** Batches in a row of growing total delay after which the CLI says the configuration is not stable. */
export const UNSTABLE_AFTER = 10;

/**
 * Spark's per-batch log line: total delay, scheduling delay, processing time, plus records in. A batch that fell
 * due on the wall clock also carries its date as the Streaming UI names it (`Batch 3000 ms (2026/11/30 21:40:03
 * UTC): …`), so a line and the UI's row of the same batch are found from each other; `batchIntervalMs` says
 * whether the date needs milliseconds.
 */
export function formatBatchLine(info: BatchInfo, growingFor = 0, batchIntervalMs = 1000): string {
  const s = (ms: number) => (ms / 1000).toFixed(3);
  // `tasks` counts the tasks that succeeded: a failed batch said `0 tasks` beside its task's failure. The attempts
  // that failed, retried or not, say what happened.
  const failedAttempts = (info.taskAttempts ?? info.tasks) - info.tasks;
  const failed = failedAttempts > 0 ? `, ${count(failedAttempts, 'failed attempt')}` : '';
  const base = `Batch ${batchLogLabel(info.batchTime, info.dueAtMs, batchIntervalMs)}: total delay ${s(info.totalDelayMs)} s (scheduling ${s(
    info.schedulingDelayMs,
  )} s, processing ${s(info.processingTimeMs)} s), ${count(info.records, 'record')} in, ${count(info.tasks, 'task')}${failed}`;
  const dead = info.deadLetters > 0 ? `, ${count(info.deadLetters, 'dead letter')}` : '';
  // The cost report where the runtime makes one (on AWS); locally the store requests are what S3 would bill.
  const cost = info.cost
    ? `, $${info.cost.dollars.toFixed(6)}${
        info.cost.dollarsPerMillionRecords !== undefined
          ? ` ($${info.cost.dollarsPerMillionRecords.toFixed(4)} per million records)`
          : ''
      }`
    : `, ${info.storageRequests ?? 0} store requests (cost: n/a locally)`;
  // Spark's stability rule: a total delay that keeps growing means batches arrive faster than they are done.
  const trend =
    growingFor >= UNSTABLE_AFTER ? `; total delay has grown ${growingFor} batches in a row: not stable` : '';
  return info.error ? `${base}${cost}${dead}; FAILED: ${info.error}` : `${base}${cost}${dead}${trend}`;
}

/** `1 record`, `2 records`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
