import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { persistedBlock, readStatePartition } from '../../lib/dataset/StateDelta';
import { StateMap } from '../../lib/dataset/StateMap';
import type { PersistSpec } from '../../lib/dataset/StorageLevel';
import type { TaskContext } from '../../lib/dataset/TaskContext';
import { MissingBlockError } from '../../lib/errors';
import type { JobModule } from '../../lib/job/JobModule';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { decodeSegment, encodeSegments } from '../../lib/storage/SegmentedBlob';
import {
  MANY_KEYS_BATCHES,
  manyKeysJobs,
  outputsByBatch,
  runStateJob,
} from '../helpers/incrementalStateRuns';
import { longRunJobs } from '../helpers/stateCases';

/**
 * Incremental state: with memory levels backed by the block store (the serverless runtime's setting), a state
 * stream writes a full snapshot at its checkpoints and, between them, only what each batch changed. Every run
 * here is a fresh process as far as the state is concerned: a new context and a new executor (empty memory).
 */

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((f) => rm(f, { recursive: true, force: true })));
});

/** Runs a job against a folder store (see `runStateJob`). */
const runJob = (job: JobModule, dir: string, batches: number, refusePut?: (key: string) => boolean) =>
  runStateJob(job, new LocalFolderStore(dir), dir, batches, refusePut);

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-incremental-'));
  folders.push(dir);
  return dir;
}

/** The persisted state blocks left in the store, as `<batchTime>/<partition>` per stream. */
async function stateBlocks(dir: string): Promise<string[]> {
  const keys = await new LocalFolderStore(dir).list('persist/');
  return keys.map((k) => k.replace(/^persist\/n\d+@/, '')).sort();
}

describe('incremental state in the block store', () => {
  for (const [operation, job] of Object.entries(manyKeysJobs)) {
    it(`${operation}: the bytes a batch writes for state follow the keys it touched, not the 20,000 held`, async () => {
      // given 20,000 keys in state after batch 1, and 10 keys touched in each later batch
      const dir = await freshDir();
      // when 25 batches run with memory backed by the store
      const { summary, store } = await runJob(job, dir, MANY_KEYS_BATCHES);
      // then batch 1 writes the whole state, and every later batch a delta of its 10 keys: each
      // `["key123",2,3000]`-sized entry is about 20 bytes, so 10 of them and two partitions' framing stay far
      // below 2 KB, while the state held is over 200 KB
      expect(summary.error).toBeUndefined();
      const bytes = store.bytesByBatch(/^persist\//);
      expect(bytes.get(1000)).toBeGreaterThan(200_000);
      for (let time = 2000; time <= MANY_KEYS_BATCHES * 1000; time += 1000) {
        expect(bytes.get(time), `state bytes of batch ${time}`).toBeGreaterThan(0);
        expect(bytes.get(time), `state bytes of batch ${time}`).toBeLessThan(2_000);
      }
    });
  }

  it('keeps exactly the newest snapshot and the deltas after it, deleting older snapshots and deltas', async () => {
    // given the long run (both operations, keys coming, going and timing out) checkpointing every 3 batches
    const dir = await freshDir();
    // when 8 batches run
    const { summary } = await runJob(longRunJobs.checkpointEvery3s, dir, 8);
    // then each state stream keeps its snapshot of batch 6 and the deltas of batches 7 and 8, for both of its
    // partitions (updateStateByKey) or its 3 partitions (mapWithState); batches 1 to 5 are gone
    expect(summary.error).toBeUndefined();
    const blocks = await stateBlocks(dir);
    expect([...new Set(blocks.map((b) => Number(b.split('/')[0])))]).toEqual([6000, 7000, 8000]);
    expect(blocks).toHaveLength(3 * (2 + 3));
  });

  it('fails a resumed batch whose state delta lost its snapshot like any batch missing a block', async () => {
    // given the long run stopped after 8 batches, whose snapshot of batch 6 something else deleted (the deltas of
    // batches 7 and 8 are over it)
    const dir = await freshDir();
    expect((await runJob(longRunJobs.checkpointEvery3s, dir, 8)).summary.error).toBeUndefined();
    const store = new LocalFolderStore(dir);
    const snapshot = (await store.list('persist/')).filter((key) => /@6000\/0$/.test(key)).sort()[0]!;
    await rm(join(dir, snapshot));
    // when a new driver and executor (nothing in memory) resume from the metadata checkpoint
    const resumed = await runJob(longRunJobs.checkpointEvery3s, dir, 10);
    // then the batch fails as one missing any block does: naming the block, why it is read, and the way to start
    // over, where it failed with a plain Error and other advice
    // (either partition's: the restore deletes the rest of a snapshot it found incomplete, and whichever task fails
    // first names its own)
    const message = resumed.summary.error?.message;
    const anyPartition = snapshot.replace(/\/0$/, '/');
    expect(message).toMatch(
      /is missing from the store, yet a batch reads it as the base of the state delta persist\//,
    );
    expect(message).toContain(`block ${anyPartition}`);
    expect(message).toContain('run with --fresh');
  });

  const crashes = [
    { name: 'right after a snapshot, before the first delta after it', refused: /^persist\/n\d+@4000\/0$/ },
    { name: 'between the delta writes of a batch', refused: /^persist\/n\d+@5000\/1$/ },
    { name: 'between delta writes, two batches after a snapshot', refused: /^persist\/n\d+@8000\/1$/ },
    // The long run's empty batches 21–27 time keys out: the deltas of batches 22 and 23 hold tombstones.
    {
      name: 'during a snapshot write, after deltas with timed-out keys',
      refused: /^persist\/n\d+@24000\/1$/,
    },
    // updateStateByKey drops keys past 100 from batch 31 on: the delta of batch 32 removes keys.
    { name: 'during a snapshot write, after deltas with removed keys', refused: /^persist\/n\d+@33000\/1$/ },
  ];
  for (const crash of crashes) {
    it(`recovers the exact state after a crash ${crash.name}`, async () => {
      // given the reference: the long run, 35 batches without a crash
      const reference = await runJob(longRunJobs.checkpointEvery3s, await freshDir(), 35);
      expect(reference.summary.error).toBeUndefined();
      // when a run fails at the write of one state block (every attempt), and a new driver and executor (nothing
      // in memory) resume from the metadata checkpoint up to batch 35
      const dir = await freshDir();
      const crashed = await runJob(longRunJobs.checkpointEvery3s, dir, 35, (key) => crash.refused.test(key));
      expect(crashed.summary.error?.message).toMatch(/refused on purpose/);
      const resumed = await runJob(longRunJobs.checkpointEvery3s, dir, 35);
      // then every batch's outputs are those of the uninterrupted run
      expect(resumed.summary.error).toBeUndefined();
      expect(outputsByBatch(crashed, resumed)).toEqual(outputsByBatch(reference));
      // and the restart rebuilt the state from the newest snapshot plus the deltas after it
      const lastCompleted = crashed.summary.batches.filter((b) => !b.error).at(-1)!.batchTime;
      const snapshot = Math.floor(lastCompleted / 3000) * 3000;
      const read = new Set(
        resumed.store.gets.filter((k) => k.startsWith('persist/')).map((k) => k.split('@')[1]),
      );
      for (let t = snapshot; t <= lastCompleted; t += 1000) expect(read).toContain(`${t}/0`);
      expect(read.has(`${snapshot - 1000}/0`)).toBe(false);
    });
  }
});

describe('a state delta, written and read back', () => {
  /** What a task offers the delta: the base partition in the stage, and the base's block in the store. */
  function taskWith(base: unknown[]): TaskContext {
    return {
      partitionOf: async () => base,
      cached: () => undefined,
      readBlock: async () => encodeSegments([base]).bytes,
    } as unknown as TaskContext;
  }
  const spec = (kind: 'pairs' | 'stateMap'): PersistSpec => ({
    key: 'n1@2000',
    level: 'memoryAndBlockStore',
    untilMs: 2000,
    delta: { kind, base: 'n1@1000', baseDatasetId: 7 },
  });

  it('throws a MissingBlockError naming the base when the store has lost it', async () => {
    // given a delta whose base is neither in this process's memory nor in the store
    const tc = { cached: () => undefined, readBlock: async () => undefined } as unknown as TaskContext;
    const block = [{ stateDelta: 'pairs', base: 'n1@1000', put: [], removed: [] }];
    // when the partition is read back, then it fails as any read of a missing block does
    const read = readStatePartition(spec('pairs'), 1, block, tc);
    await expect(read).rejects.toBeInstanceOf(MissingBlockError);
    await expect(read).rejects.toThrow(
      /^block persist\/n1@1000\/1 is missing from the store, yet a batch reads it as the base of the state delta persist\/n1@2000\/1:/,
    );
  });

  it('updateStateByKey: holds the changed and new keys and the removed ones, and rebuilds the state', async () => {
    // given a previous state and the next one: b changed, c removed, d new, a unchanged
    const before = [
      ['a', { n: 1 }],
      ['b', 2],
      ['c', 3],
    ];
    const after = [
      ['a', { n: 1 }],
      ['b', 5],
      ['d', 4],
    ];
    const tc = taskWith(before);
    // when the partition is written as a delta and read back over its base
    const block = decodeSegment(await persistedBlock(spec('pairs'), 0, after, tc));
    const rebuilt = await readStatePartition(spec('pairs'), 0, block, tc);
    // then the delta holds b, d and the tombstone of c only, and the rebuilt partition is the next state
    expect(block).toEqual([
      {
        stateDelta: 'pairs',
        base: 'n1@1000',
        put: [
          ['b', 5],
          ['d', 4],
        ],
        removed: ['c'],
      },
    ]);
    expect(rebuilt).toEqual(after);
  });

  it('mapWithState: holds the keys the batch put and removed, its mapped values and the timeout mark', async () => {
    // given a state map of three keys, and a batch that updates one, removes one and times out at 1500
    const base = StateMap.fromRecords<string, number>([
      ['a', 1, 1000],
      ['b', 2, 1000],
      ['c', 3, 1000],
    ]);
    const next = base.nextGeneration();
    next.put('a', 10, 2000);
    next.remove('c');
    next.timedOutBeforeMs = 1500;
    const tc = taskWith([{ stateMap: base, mapped: [] }]);
    // when the partition is written as a delta and read back over its base
    const block = decodeSegment(
      await persistedBlock(spec('stateMap'), 0, [{ stateMap: next, mapped: ['x'] }], tc),
    );
    const [rebuilt] = (await readStatePartition(spec('stateMap'), 0, block, tc)) as [
      { stateMap: StateMap<string, number>; mapped: unknown[] },
    ];
    // then the delta holds a and the tombstone of c, and the rebuilt map is the batch's
    expect(block).toEqual([
      {
        stateDelta: 'stateMap',
        base: 'n1@1000',
        put: [['a', 10, 2000]],
        removed: ['c'],
        mapped: ['x'],
        timedOutBeforeMs: 1500,
      },
    ]);
    expect(rebuilt.stateMap.toRecords()).toEqual(next.toRecords());
    expect(rebuilt.stateMap.timedOutBeforeMs).toBe(1500);
    expect(rebuilt.mapped).toEqual(['x']);
  });
});
