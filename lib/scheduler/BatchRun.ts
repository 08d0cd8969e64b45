import { AsyncLocalStorage } from 'node:async_hooks';
import type { DeadLetter } from '../dataset/TaskContext';

/** What the jobs of one batch add up to while they run. */
export class BatchRun {
  tasks = 0;
  taskAttempts = 0;
  /** Speculative copies launched for stragglers. */
  speculativeTasks = 0;
  /** Speculative copies whose result was the one used. */
  speculativeWins = 0;
  stages = 0;
  driverStages = 0;
  shuffleBytes = 0;
  storageRequests = 0;
  /** Bytes of JSON plans sent to runners: stays flat when lineage is cut by checkpoints. */
  planBytes = 0;
  /** Time spent planning jobs (turning datasets into stages), in ms. */
  planningMs = 0;
  /** Time tasks spent computing, storage calls excluded, summed over tasks, in ms. */
  taskComputeMs = 0;
  /** Time tasks spent in block-store calls, summed over tasks, in ms. */
  taskStorageMs = 0;
  /** Per stage, the wall time beyond its slowest task (dispatch: thread messages or Lambda invokes), in ms. */
  dispatchMs = 0;
  readonly deadLetters: DeadLetter[] = [];
  private readonly letterKeys = new Set<string>();

  constructor(readonly batchTime: number) {}

  /**
   * Adds the dead letters of one task. A dataset that is not persisted is computed again by every job of the
   * batch that reads it (two outputs of one stream, say), and each computation rejects the same records: those
   * are one dead letter, not two. A computation is deterministic, so the n-th letter of a dataset in a task of
   * the same partition is the same letter; records that really occur twice have different positions and stay.
   */
  addDeadLetters(partition: number, letters: readonly DeadLetter[]): void {
    const position = new Map<string, number>();
    for (const letter of letters) {
      const n = position.get(letter.dataset) ?? 0;
      position.set(letter.dataset, n + 1);
      const key = JSON.stringify([letter.dataset, partition, n, letter.error, letter.record]);
      if (this.letterKeys.has(key)) continue;
      this.letterKeys.add(key);
      this.deadLetters.push(letter);
    }
  }
}

/**
 * The batch whose job is running, carried along the job's async calls. Actions inside foreachRDD run jobs
 * with no batch time in their arguments; this is how they still land in the right batch.
 */
export const currentBatch = new AsyncLocalStorage<BatchRun>();
