import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { ActiveBatches } from '../../lib/ui/ActiveBatches';

afterEach(() => {
  vi.useRealTimers();
});

describe('ActiveBatches', () => {
  it('gives each active batch its scheduling delay, processing time and output ops so far', () => {
    // given a batch due at 10,000 that started at 10,300 and finished one of its 3 output ops, another failed,
    // and a batch due at 11,000 still queued
    vi.useFakeTimers({ now: 10_300 });
    const active = new ActiveBatches();
    active.onBatchSubmitted(1000, 40, 10_000, 3);
    active.onBatchStarted(1000);
    active.onOutputOpCompleted(1000, 0);
    active.onOutputOpCompleted(1000, 2, 'boom');
    active.onBatchSubmitted(2000, 7, 11_000, 3);
    // when a snapshot is taken at 11,500
    const snapshot = active.snapshot(11_500);
    // then the newest comes first; the queued one has waited 500 ms so far, the running one waited 300 ms and
    // has run 1,200 ms, with one output op succeeded and one failed of three
    expect(snapshot).toEqual([
      {
        batchTime: 2000,
        records: 7,
        status: 'queued',
        dueAtMs: 11_000,
        schedulingDelayMs: 500,
        outputOpsTotal: 3,
        outputOpsSucceeded: 0,
        outputOpsFailed: 0,
      },
      {
        batchTime: 1000,
        records: 40,
        status: 'processing',
        dueAtMs: 10_000,
        startedAtMs: 10_300,
        schedulingDelayMs: 300,
        processingTimeMs: 1200,
        outputOpsTotal: 3,
        outputOpsSucceeded: 1,
        outputOpsFailed: 1,
      },
    ]);
    // and a completed batch is no longer active
    active.onBatchCompleted({ batchTime: 1000 } as BatchInfo);
    expect(active.snapshot(11_500).map((b) => b.batchTime)).toEqual([2000]);
  });
});
