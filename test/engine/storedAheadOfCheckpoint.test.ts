import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext } from '../../lib/StreamingContext';
import type { CheckpointData } from '../../lib/scheduler/CheckpointData';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { SystemClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A store that keeps every metadata checkpoint written. */
class RecordingStore extends LocalFolderStore {
  readonly checkpoints: CheckpointData[] = [];

  override async put(key: string, bytes: Uint8Array | string): Promise<void> {
    await super.put(key, bytes);
    if (key === METADATA_KEY) this.checkpoints.push(JSON.parse(String(bytes)));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-stored-ahead-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state checkpoints in the metadata checkpoint', () => {
  it('lists no stored dataset of a batch after its last completed batch', async () => {
    // given a state checkpointed every batch, and batch 100 whose second output waits until batch 200 completed
    const ssc = new StreamingContext({ batchIntervalMs: 100, concurrentJobs: 2, checkpointIntervalMs: 100 });
    const store = new RecordingStore(join(dir, 'store'));
    connectInProcess(ssc, store, dir);
    let batch200Done = () => {};
    const done200 = new Promise<void>((resolve) => {
      batch200Done = resolve;
    });
    ssc.addListener({
      onBatchCompleted: (info) => {
        if (info.batchTime === 200) batch200Done();
      },
    });
    const counts = ssc
      .queueStream([['a', 'b'], ['a'], ['b']])
      .map((w: string) => [w, 1] as [string, number])
      .updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length);
    counts.foreachRDD(async (ds) => {
      await ds.count();
    });
    counts.foreachRDD(async (_ds, batchTime) => {
      if (batchTime !== 100) return;
      await Promise.race([done200, new Promise((resolve) => setTimeout(resolve, 5000))]);
    });
    // when the batches run at once (batch times long past on the system clock)
    const summary = await new JobScheduler(ssc, new SystemClock(Date.now() - 10_000), { name: 'ahead' }).run({
      batches: 3,
    });
    expect(summary.error).toBeUndefined();
    // then batch 200's checkpoint, written while batch 100 ran, names no state of batch 100 as stored: a restart
    // from it reruns batch 100, which must compute its state (and its dead letters) again, not read it
    const ahead = store.checkpoints.filter(
      (c) => c.pendingBatches.includes(100) && !c.pendingBatches.includes(200),
    );
    expect(ahead.length).toBeGreaterThan(0);
    const early = store.checkpoints.flatMap((c) =>
      c.stored
        .filter(({ key }) => Number(key.split('@')[1]) > c.lastCompletedBatch)
        .map(({ key }) => `${key} with batches done through ${c.lastCompletedBatch}`),
    );
    expect(early).toEqual([]);
  });
});
