import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext } from '../../lib/StreamingContext';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A folder store that records the last completed batch of every metadata checkpoint written. */
class CheckpointRecordingStore extends LocalFolderStore {
  readonly checkpoints: number[] = [];

  override async put(key: string, bytes: Uint8Array | string): Promise<void> {
    await super.put(key, bytes);
    if (key === METADATA_KEY) this.checkpoints.push(JSON.parse(String(bytes)).lastCompletedBatch);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-idle-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `batches` one-second batches of a queue of `queued` one-record batches, counted by a foreachRDD. */
async function runQueue(queued: number, batches: number, store: CheckpointRecordingStore) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  connectInProcess(ssc, store, dir);
  const counts: Array<[number, number]> = [];
  ssc.queueStream(Array.from({ length: queued }, (_, i) => [`r${i}`])).foreachRDD(async (ds, batchTime) => {
    counts.push([batchTime, await ds.count()]);
  });
  const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'idle' }).run({ batches });
  return { summary, counts };
}

describe('the metadata checkpoint of an idle batch', () => {
  it('is not written again when only its batch times moved, while the batch and its outputs still run', async () => {
    // given a queue that runs dry after 2 batches
    const store = new CheckpointRecordingStore(join(dir, 'store'));
    // when 8 batches run
    const { summary, counts } = await runQueue(2, 8, store);
    // then every batch ran, and the output ran for each empty one as Spark's does
    expect(summary.error).toBeUndefined();
    expect(summary.batches.map((b) => b.batchTime)).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
    expect(counts.map(([, n]) => n)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    // and the checkpoint was written before batch 1, for the batches that took records and the two after them
    // (the input remembers its previous batch, as Spark's does: its batch 2 left the checkpoint at batch 4), not
    // again for the idle ones, and once more as the run ended
    expect(store.checkpoints).toEqual([0, 1000, 2000, 3000, 4000, 8000]);
    // and the checkpoint on disk is the run's last batch, where a restart resumes
    const onDisk = JSON.parse(await readFile(join(dir, 'store', METADATA_KEY), 'utf8'));
    expect(onDisk.lastCompletedBatch).toBe(8000);
  });

  it('is written again once the one on disk is 10 s of idle batches behind', async () => {
    // given a queue that runs dry after 1 batch
    const store = new CheckpointRecordingStore(join(dir, 'store'));
    // when 25 batches run
    const { summary } = await runQueue(1, 25, store);
    // then a restart never has more than 10 s of empty batches to run again (batch 2 adds nothing to batch 1's
    // checkpoint, which still remembers it: the one after, 10 s on, does, and the next drops batch 1)
    expect(summary.error).toBeUndefined();
    expect(store.checkpoints).toEqual([0, 1000, 11000, 12000, 22000, 25000]);
  });

  it('is written for every batch of a source that keeps taking records', async () => {
    // given a queue with a record for every batch
    const store = new CheckpointRecordingStore(join(dir, 'store'));
    // when 4 batches run
    const { counts } = await runQueue(4, 4, store);
    // then no checkpoint is skipped
    expect(counts.map(([, n]) => n)).toEqual([1, 1, 1, 1]);
    expect(store.checkpoints).toEqual([0, 1000, 2000, 3000, 4000]);
  });
});
