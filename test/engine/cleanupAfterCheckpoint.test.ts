import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamingContext } from '../../lib/StreamingContext';
import { METADATA_KEY } from '../../lib/scheduler/CheckpointData';
import { SystemClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/**
 * A store that holds metadata checkpoint writes while `gate` is closed, and checks every input block deleted
 * against the newest checkpoint written: a block of a batch after its last completed batch is one a restart
 * from it reads (a pending batch's input), so deleting it is what made a kill -9 unrecoverable.
 */
class GatedStore extends LocalFolderStore {
  gate: Promise<void> = Promise.resolve();
  held = 0;
  lastCompletedOnDisk = 0;
  readonly violations: string[] = [];

  override async put(key: string, bytes: Uint8Array | string): Promise<void> {
    if (key === METADATA_KEY) {
      this.held++;
      await this.gate;
      this.held--;
      await super.put(key, bytes);
      this.lastCompletedOnDisk = JSON.parse(String(bytes)).lastCompletedBatch;
      return;
    }
    await super.put(key, bytes);
  }

  override async deletePrefix(prefix: string): Promise<void> {
    const batch = /^input\/[^/]+\/(\d+)\/$/.exec(prefix);
    if (batch && Number(batch[1]) > this.lastCompletedOnDisk) {
      this.violations.push(`${prefix} deleted while the checkpoint says ${this.lastCompletedOnDisk} ms`);
    }
    await super.deletePrefix(prefix);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-cleanup-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cleanup after a checkpoint', () => {
  it('deletes no input block that the checkpoint on disk still needs, with batches completing out of order', async () => {
    // given batches 200 and 300 that complete ahead of batch 100, whose checkpoints wait in the chain
    const ssc = new StreamingContext({ batchIntervalMs: 100, concurrentJobs: 3 });
    const store = new GatedStore(join(dir, 'store'));
    connectInProcess(ssc, store, dir);
    let release = () => {};
    let aheadDone = 0;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    ssc.addListener({
      onBatchSubmitted: (batchTime) => {
        if (batchTime === 100) {
          store.gate = new Promise((resolve) => {
            release = resolve;
          });
        }
      },
    });
    ssc.queueStream([['a'], ['b'], ['c']]).foreachRDD(async (ds, batchTime) => {
      await ds.count();
      if (batchTime !== 100) {
        aheadDone++;
        return;
      }
      try {
        // batches 200 and 300 complete first: the first one's checkpoint waits at the gate, the other's behind it
        const until = Date.now() + 5000;
        while ((aheadDone < 2 || store.held < 1) && Date.now() < until) await sleep(5);
        await sleep(50);
      } finally {
        // batch 100 completes now (batches 100 to 300 are done), and the gate opens once its checkpoint is queued
        setTimeout(() => release(), 50);
      }
    });
    // when the three batches run at once (batch times long past on the system clock)
    const summary = await new JobScheduler(ssc, new SystemClock(Date.now() - 10_000), { name: 'ahead' }).run({
      batches: 3,
    });
    // then every batch completed, and no cleanup deleted a block the newest checkpoint on disk still read
    expect(summary.error).toBeUndefined();
    expect(aheadDone).toBe(2);
    expect(store.lastCompletedOnDisk).toBe(300);
    expect(store.violations).toEqual([]);
  });
});
