import { AsyncLocalStorage } from 'node:async_hooks';
import type { DeadLetter } from '../dataset/TaskContext';

/** What the jobs of one batch add up to while they run. */
export class BatchRun {
  tasks = 0;
  taskAttempts = 0;
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

  constructor(readonly batchTime: number) {}
}

/**
 * The batch whose job is running, carried along the job's async calls. Actions inside foreachRDD run jobs
 * with no batch time in their arguments; this is how they still land in the right batch.
 */
export const currentBatch = new AsyncLocalStorage<BatchRun>();
