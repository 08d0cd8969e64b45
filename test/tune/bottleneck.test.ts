import { describe, expect, it } from 'vitest';
import { findBottleneck } from '../../lib/local/tune/bottleneck';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { batchInfo } from '../helpers/batchInfo';

/** A batch's metrics with a breakdown, and optionally the per-stage metrics of one output's job. */
function batch(
  batchTime: number,
  stages?: readonly Record<string, unknown>[],
  breakdown = { planningMs: 1, dispatchMs: 2, taskComputeMs: 30, taskStorageMs: 4 },
): BatchInfo {
  return batchInfo({
    batchTime,
    records: 100,
    processingTimeMs: 40,
    stages: stages?.length ?? 1,
    tasks: 2,
    taskAttempts: 2,
    breakdown,
    ...(stages
      ? {
          outputOps: [
            { id: 0, name: 'out', durationMs: 40, jobs: [{ stages }] },
          ] as unknown as BatchInfo['outputOps'],
        }
      : {}),
  });
}

const stage = (stageId: number, durationMs: number, fields: Record<string, unknown> = {}) => ({
  stageId,
  ranOn: 'worker-threads(2)',
  durationMs,
  computeMs: 10,
  storageMs: 2,
  shuffleBytesRead: 0,
  shuffleBytesWritten: 0,
  tasks: [{ durationMs: durationMs - 1 }],
  ...fields,
});

describe('findBottleneck', () => {
  it('names the stage with the largest median duration and splits its time', () => {
    // given three batches where stage 1 (a shuffle read spending most time in storage) is the slowest
    const slow = { computeMs: 5, storageMs: 50, shuffleBytesRead: 100 };
    const batches = [10, 20, 30].map((t) => batch(t, [stage(0, 20), stage(1, 60 + t, slow)]));
    // when the bottleneck is found
    const found = findBottleneck(batches);
    // then it is stage 1, its median 80 ms, its storage counted as shuffle, and 1 ms a batch of dispatch
    expect(found).toEqual({
      stage: 'output 0, job 0, stage 1',
      medianDurationMs: 80,
      split: { computeMs: 15, storageMs: 0, shuffleMs: 150, driverMs: 3 },
      mostlyIn: 'shuffle',
    });
  });

  it('counts a stage that ran in the driver as driver time', () => {
    const found = findBottleneck([batch(10, [stage(0, 50, { ranOn: 'in-process' })])]);
    expect(found?.split).toEqual({ computeMs: 0, storageMs: 0, shuffleMs: 0, driverMs: 50 });
    expect(found?.mostlyIn).toBe('driver');
  });

  it("falls back to the batches' breakdown without per-stage metrics", () => {
    const found = findBottleneck([batch(10), batch(20)]);
    expect(found).toEqual({
      stage: 'all stages (no per-stage metrics)',
      medianDurationMs: 40,
      split: { computeMs: 60, storageMs: 8, shuffleMs: 0, driverMs: 6 },
      mostlyIn: 'compute',
    });
  });
});
