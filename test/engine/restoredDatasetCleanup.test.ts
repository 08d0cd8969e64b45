import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { StreamingContext } from '../../lib/StreamingContext';
import { type CheckpointData, readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { driveJob } from '../../lib/scheduler/JobDriver';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { CheckpointSnapshotStore } from '../helpers/checkpointSnapshotStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { statefulAndWindowed } from '../helpers/restoredDatasetJobs';

/**
 * A stream's own datasets in the block store (a state's checkpoints, a window's parent, a checkpointed stream) that a
 * driver left when it died after a checkpoint listed them, before the cleanup that deletes those no batch reads any
 * more: the next driver's restore marks them stored, and it must still drop them once no batch reads them, though it
 * never computes their batch again.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-restored-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One driver (a process, or a coordinator invocation) running the job on `store` up to batch `batches`. */
async function driver(
  store: LocalFolderStore,
  batches: number,
  memoryBackedByStore: boolean,
  checkpoint?: CheckpointData,
) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  statefulAndWindowed(ssc);
  const runner = connectInProcess(ssc, store, dir, memoryBackedByStore ? { memoryBackedByStore } : {});
  const outputs: OutputEvent[] = [];
  ssc.addListener({ onOutput: (e) => outputs.push(e) });
  const summary = await driveJob(ssc, new JobScheduler(ssc, new LogicalClock(), { name: 'restored' }), {
    logicalClock: true,
    checkpoint: checkpoint ?? (await readCheckpoint(store)),
    limits: { batches },
    runners: [runner],
  });
  expect(summary.error).toBeUndefined();
  return { ssc, outputs };
}

/** The persisted datasets in a store's folder, sorted (`n4@2000`: stream n4's dataset of batch 2000). */
async function persistedIn(storeDir: string): Promise<string[]> {
  return (await readdir(join(storeDir, 'persist')).catch(() => [] as string[])).sort();
}

/** The datasets the store's metadata checkpoint lists as stored, sorted. */
async function listedIn(storeDir: string): Promise<string[]> {
  return (await readCheckpoint(new LocalFolderStore(storeDir)))!.stored.map((s) => s.key).sort();
}

/** Each output's records of batches after `after`, by output and batch, order-free. */
function outputsAfter(outputs: OutputEvent[], after: number): Record<string, string[]> {
  return Object.fromEntries(
    outputs
      .filter((e) => e.batchTime > after)
      .map((e) => [`${e.output}@${e.batchTime}`, e.records.map((r) => JSON.stringify(r)).sort()]),
  );
}

describe("a stream's own datasets left by a driver that died after a checkpoint, before its cleanup", () => {
  for (const [where, memoryBackedByStore] of [
    ['in the block store (local mode)', false],
    ['in memory backed by the store (the serverless runtime)', true],
  ] as const) {
    it(`are dropped by the next driver once no batch reads them (${where})`, async () => {
      // given an uninterrupted run of 12 batches
      const referenceDir = join(dir, 'reference');
      const reference = await driver(new LocalFolderStore(referenceDir), 12, memoryBackedByStore);
      // and the store as a driver left it that died once batch 6's checkpoint was written, before the cleanup that
      // deletes what that checkpoint lists and no later batch reads (the state's checkpoint of batch 4, the window's
      // parent of batch 4, the checkpointed stream's dataset of batch 4)
      const killedDir = join(dir, 'killed');
      const recording = new CheckpointSnapshotStore(
        join(dir, 'store'),
        killedDir,
        (written) => written.lastCompletedBatch === 6000,
      );
      await driver(recording, 7, memoryBackedByStore);
      const snapshot = recording.snapshot;
      const left = (await persistedIn(killedDir)).filter((key) => Number(key.split('@')[1]) <= 4000);
      expect(left.length).toBeGreaterThanOrEqual(3);
      for (const key of left) expect(snapshot!.stored.map((s) => s.key)).toContain(key);
      // and, unlisted, a copy of each as of batch 1: what an earlier cleanup was still deleting then
      for (const key of left)
        await cp(join(killedDir, 'persist', key), join(killedDir, 'persist', key.replace(/@\d+$/, '@1000')), {
          recursive: true,
        });
      // when the next driver resumes from it, up to batch 12
      const resumed = await driver(new LocalFolderStore(killedDir), 12, memoryBackedByStore, snapshot);
      // then its batches hold what the uninterrupted run's did, and it ends with that run's store and checkpoint:
      // nothing of the batches before the crash is kept, listed or tracked
      expect(outputsAfter(resumed.outputs, 6000)).toEqual(outputsAfter(reference.outputs, 6000));
      expect(await persistedIn(killedDir)).toEqual(await persistedIn(referenceDir));
      expect(await listedIn(killedDir)).toEqual(await listedIn(referenceDir));
      expect(resumed.ssc.persistence.size).toBe(reference.ssc.persistence.size);
    });
  }
});
