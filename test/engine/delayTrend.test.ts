import { describe, expect, it } from 'vitest';
import { formatBatchLine, UNSTABLE_AFTER } from '../../lib/local/cli/formatBatchLine';
import { DelayTrend } from '../../lib/scheduler/DelayTrend';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';

describe('DelayTrend', () => {
  it('counts the batches in a row whose total delay grew, and restarts at a batch that did not grow', () => {
    const trend = new DelayTrend();
    const runs = [100, 120, 130, 130, 150, 160, 90, 95].map((delay) => trend.observe(delay));
    expect(runs).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
    expect(trend.growingFor).toBe(1);
  });

  it('stays at zero for a flat or shrinking delay, which is a stable configuration', () => {
    const trend = new DelayTrend();
    expect([50, 50, 40, 50, 45, 45].map((d) => trend.observe(d))).toEqual([0, 0, 0, 1, 0, 0]);
  });
});

describe('the CLI batch line', () => {
  const info = {
    batchTime: 5000,
    totalDelayMs: 1200,
    schedulingDelayMs: 700,
    processingTimeMs: 500,
  } as BatchInfo;
  const line = (growingFor: number) =>
    formatBatchLine({ ...info, records: 10, tasks: 2, deadLetters: 0 } as BatchInfo, growingFor);

  it(`says the configuration is not stable once the total delay has grown ${UNSTABLE_AFTER} batches in a row`, () => {
    expect(line(UNSTABLE_AFTER - 1)).not.toMatch(/stable/);
    expect(line(UNSTABLE_AFTER)).toMatch(
      new RegExp(`total delay has grown ${UNSTABLE_AFTER} batches in a row: not stable$`),
    );
  });

  it('reports the batch cost where there is one, and the store requests locally', () => {
    const local = formatBatchLine({
      ...info,
      records: 10,
      tasks: 2,
      deadLetters: 0,
      storageRequests: 7,
    } as BatchInfo);
    expect(local).toMatch(/, 7 store requests \(cost: n\/a locally\)$/);
    const cost = { dollars: 0.000123, dollarsPerMillionRecords: 12.3 };
    const aws = formatBatchLine({
      ...info,
      records: 10,
      tasks: 2,
      deadLetters: 0,
      cost,
    } as unknown as BatchInfo);
    expect(aws).toMatch(/, \$0\.000123 \(\$12\.3000 per million records\)$/);
  });
});
