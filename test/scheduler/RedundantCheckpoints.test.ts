import { describe, expect, it } from 'vitest';
import type { CheckpointData } from '../../lib/scheduler/CheckpointData';
import { RedundantCheckpoints } from '../../lib/scheduler/RedundantCheckpoints';

/** A checkpoint of an idle job completed through `lastCompletedBatch`, whose source position is `position`. */
function checkpointAt(lastCompletedBatch: number, position: unknown): CheckpointData {
  return {
    version: 1,
    jobName: 'idle',
    graphSignature: 'g',
    batchIntervalMs: 1000,
    lastCompletedBatch,
    pendingBatches: [],
    inputs: { n0: { [String(lastCompletedBatch)]: { offsets: [0, 0], records: 0 } } },
    sources: { n0: position },
    stored: [],
    outputs: {},
    writtenAt: new Date(lastCompletedBatch).toISOString(),
  };
}

describe('RedundantCheckpoints', () => {
  it('serializes a checkpoint it judges, writes and records as written once', () => {
    // given a checkpoint written, and a next one whose source position counts how often it is serialized
    const checkpoints = new RedundantCheckpoints();
    checkpoints.written(checkpointAt(1000, 7));
    let serialized = 0;
    const counted = {
      toJSON: () => {
        serialized++;
        return 8;
      },
    };
    const next = checkpointAt(2000, counted);
    // when it is judged (not redundant: its source moved), its text made, and recorded as written
    expect(checkpoints.isRedundant(next, 1000)).toBe(false);
    const text = checkpoints.textOf(next);
    checkpoints.written(next);
    // then it was serialized once, and its text records what JSON.stringify writes
    expect(serialized).toBe(1);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(next)));
  });

  it('judges an idle checkpoint against the last one written, not the last one judged', () => {
    // given a checkpoint written, then one judged and not written
    const checkpoints = new RedundantCheckpoints();
    checkpoints.written(checkpointAt(1000, 7));
    expect(checkpoints.isRedundant(checkpointAt(2000, 8), 1000)).toBe(false);
    // when idle checkpoints follow, the same as the written one, then the same as the one not written
    // then the first is redundant, the second not
    expect(checkpoints.isRedundant(checkpointAt(3000, 7), 1000)).toBe(true);
    expect(checkpoints.behind).toBe(true);
    expect(checkpoints.isRedundant(checkpointAt(4000, 8), 1000)).toBe(false);
  });
});
