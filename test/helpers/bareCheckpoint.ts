import type { CheckpointData } from '../../lib/scheduler/CheckpointData';

/** A metadata checkpoint of a job with nothing to restore but its last completed batch. */
export function bareCheckpoint(lastCompletedBatch: number, jobName = 'fenced'): CheckpointData {
  return {
    version: 1,
    jobName,
    graphSignature: 'g',
    batchIntervalMs: 1000,
    lastCompletedBatch,
    pendingBatches: [],
    inputs: {},
    sources: {},
    stored: [],
    outputs: {},
    writtenAt: '',
  };
}
