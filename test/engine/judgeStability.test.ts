import { describe, expect, it } from 'vitest';
import { judgeStability } from '../../lib/scheduler/judgeStability';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

/** Batches of a 1 s interval with the given total delays (processing = total delay, no scheduling delay). */
function run(totalDelaysMs: readonly number[], processingMs?: readonly number[]): BatchInfo[] {
  return totalDelaysMs.map(
    (totalDelayMs, i) =>
      ({
        batchTime: (i + 1) * 1000,
        records: 10,
        schedulingDelayMs: 0,
        processingTimeMs: processingMs?.[i] ?? totalDelayMs,
        totalDelayMs,
      }) as BatchInfo,
  );
}

describe('judgeStability', () => {
  it('calls a flat total delay stable, naming its range', () => {
    expect(judgeStability(run([400, 420, 380, 410, 400]), 5, 1000)).toEqual({
      stable: true,
      reason: 'total delay 380–420 ms, flat',
    });
  });

  it('calls a total delay that never falls and grows by over 0.1 interval unstable', () => {
    expect(judgeStability(run([100, 300, 500, 600, 700]), 5, 1000)).toEqual({
      stable: false,
      reason: 'total delay grows 300 → 500 → 600 → 700 ms',
    });
  });

  it('lets a rise within 0.1 interval pass as jitter', () => {
    expect(judgeStability(run([500, 520, 540, 560, 580]), 5, 1000).stable).toBe(true);
  });

  it('calls processing at or above the interval unstable', () => {
    const verdict = judgeStability(run([900, 900, 900, 900], [900, 900, 1000, 900]), 4, 1000);
    expect(verdict).toEqual({ stable: false, reason: 'processing 1000 ms ≥ interval' });
  });

  it('calls a total delay of 1.5 intervals unstable', () => {
    const verdict = judgeStability(run([1600, 1500, 1600, 1500], [900, 900, 900, 900]), 4, 1000);
    expect(verdict).toEqual({ stable: false, reason: 'total delay 1600 ms ≥ 1500 ms' });
  });

  it('calls a run with fewer batches than planned, or a failed batch, unstable', () => {
    expect(judgeStability(run([100, 100]), 5, 1000)).toEqual({
      stable: false,
      reason: 'only 2 of 5 batches ran',
    });
    const failed = [...run([100]), { ...run([100])[0]!, batchTime: 2000, error: 'boom' }];
    expect(judgeStability(failed, 2, 1000)).toEqual({ stable: false, reason: 'batch 2000 failed: boom' });
  });

  it('judges only the last batches it is told to', () => {
    // a slow warm-up batch, then flat: judged over the last 2 only, it is stable
    expect(judgeStability(run([1400, 300, 300]), 3, 1000, { lastBatches: 2 }).stable).toBe(true);
  });
});
