import { describe, expect, it } from 'vitest';
import { withBatch } from '../../lib/aws/CoordinatorRuntime';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import { batchInfo } from '../helpers/batchInfo';

/** A batch with one output operation, as the scheduler reports it. */
function batch(batchTime: number): BatchInfo {
  return batchInfo({
    batchTime,
    records: 1,
    processingTimeMs: 5,
    outputOps: [{ id: 0, name: 'out', durationMs: 5, jobs: [] }],
    inputs: { n1: { name: 'tweets', took: ['records 0 to 9'] } },
  });
}

describe("the coordinator's kept metrics (jobs/<name>/metrics.json)", () => {
  it('keep the last 1,000 batches, the newest 100 with their output operations and inputs', () => {
    // given 1,050 batches added one by one, the 10th run again after a restart
    let kept: BatchInfo[] = [];
    for (let n = 1; n <= 1050; n++) kept = withBatch(kept, batch(n * 1000));
    kept = withBatch(kept, batch(1_050_000));
    // then the newest 1,000 stay, once each, in order, and only the newest 100 keep their details
    expect(kept).toHaveLength(1000);
    expect(kept[0]!.batchTime).toBe(51_000);
    expect(kept.at(-1)!.batchTime).toBe(1_050_000);
    expect(kept.filter((b) => b.outputOps !== undefined).map((b) => b.batchTime)).toEqual(
      Array.from({ length: 100 }, (_, i) => (951 + i) * 1000),
    );
    // and so do what their input streams took
    expect(kept.filter((b) => b.inputs !== undefined)).toHaveLength(100);
  });
});
