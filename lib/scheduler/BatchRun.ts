import { AsyncLocalStorage } from 'node:async_hooks';
import type { DeadLetter } from '../dataset/TaskContext';
import { DeadLetterLedger } from './DeadLetterLedger';

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

  /** @param ledger the letters written already, by this batch and earlier ones; default: this batch's only. */
  constructor(
    readonly batchTime: number,
    private readonly ledger = new DeadLetterLedger(),
  ) {}

  /**
   * Adds the dead letters of one task, except those a computation of the same dataset partition already
   * gave, in this batch or an earlier one (see `DeadLetterLedger`): the n-th letter of a dataset in a task of
   * the same partition is the same letter.
   */
  addDeadLetters(partition: number, letters: readonly DeadLetter[]): void {
    const position = new Map<string, number>();
    for (const letter of letters) {
      const n = position.get(letter.dataset) ?? 0;
      position.set(letter.dataset, n + 1);
      const key = JSON.stringify([letter.dataset, partition, n, letter.error, letter.record]);
      if (this.ledger.firstTime(key, this.batchTime)) this.deadLetters.push(letter);
    }
  }
}

/**
 * The batch whose job is running, carried along the job's async calls. Actions inside foreachRDD run jobs
 * with no batch time in their arguments; this is how they still land in the right batch.
 */
export const currentBatch = new AsyncLocalStorage<BatchRun>();
