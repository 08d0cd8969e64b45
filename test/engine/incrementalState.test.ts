import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { State } from '../../lib/dataset/State';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { contextFromModule, defineJob, type JobModule } from '../../lib/job/JobModule';
import { LocalFolderStore } from '../../lib/local/LocalFolderStore';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import { readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { CountingStore } from '../helpers/CountingStore';
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

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-incremental-'));
  folders.push(dir);
  return dir;
}

/**
 * Runs `job` up to batch `batches` against the store in `dir`, resuming from its metadata checkpoint when there
 * is one (a coordinator restart: new driver, new executor, nothing in memory), on the logical clock.
 */
async function runJob(job: JobModule, dir: string, batches: number, refusePut?: (key: string) => boolean) {
  const ssc = contextFromModule(job);
  const store = new CountingStore(new LocalFolderStore(dir), refusePut);
  const runner = new InProcessRunner({
    ...localExecutorEnv({ storeDir: dir, outputDir: dir, baseDir: dir }, ssc.functions),
    store,
  });
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner: runner,
    memoryBackedByStore: true,
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  const outputs: OutputEvent[] = [];
  ssc.addListener({ onOutput: (e) => outputs.push(e) });
  const scheduler = new JobScheduler(ssc, new LogicalClock(), { name: 'incremental' });
  for (const input of ssc.graph.inputs) await input.source.start?.({ intervalMs: 1000, logicalClock: true });
  const checkpoint = await readCheckpoint(store);
  if (checkpoint) await scheduler.restore(checkpoint);
  const summary = await scheduler.run({ batches });
  for (const input of ssc.graph.inputs) await input.source.stop?.();
  return { summary, outputs, store };
}

/** Each output's records by batch, order-free; a batch run again (after a restart) replaces its first run. */
function byBatch(...runs: Array<{ outputs: OutputEvent[] }>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const run of runs) {
    for (const e of run.outputs) {
      out[`${e.output}@${e.batchTime}`] = [...e.records].map((r) => JSON.stringify(r)).sort();
    }
  }
  return out;
}

/** The persisted state blocks left in the store, as `<batchTime>/<partition>` per stream. */
async function stateBlocks(dir: string): Promise<string[]> {
  const keys = await new LocalFolderStore(dir).list('persist/');
  return keys.map((k) => k.replace(/^persist\/n\d+@/, '')).sort();
}

type Pair = [string, number];
const KEYS = 20_000;
const TOUCHED = 10;
/**
 * Batch 1 brings 20,000 keys; each of the 24 later batches touches 10 of them (more than the 20 generations
 * after which mapWithState flattens its chain of state maps, which must not make a batch write everything).
 */
const BATCHES = 25;
const manyKeysInput: Pair[][] = [
  Array.from({ length: KEYS }, (_, i) => [`key${i}`, 1] as Pair),
  ...Array.from({ length: BATCHES - 1 }, (_, b) =>
    Array.from({ length: TOUCHED }, (_, i) => [`key${(b * 4099 + i * 37) % KEYS}`, 1] as Pair),
  ),
];
const manyKeys = {
  mapWithState: defineJob(
    { batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs: 1_000_000 },
    (ssc) => {
      ssc
        .queueStream(manyKeysInput)
        .mapWithState({
          fn: (key: string, value: number | undefined, state: State<number>) => {
            state.update((state.exists() ? state.get() : 0) + value!);
            return key;
          },
        })
        .collectBatches('calls');
    },
  ),
  updateStateByKey: defineJob(
    { batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs: 1_000_000 },
    (ssc) => {
      ssc
        .queueStream(manyKeysInput)
        .updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length)
        .count()
        .collectBatches('keys');
    },
  ),
};

describe('incremental state in the block store', () => {
  for (const [operation, job] of Object.entries(manyKeys)) {
    it(`${operation}: the bytes a batch writes for state follow the keys it touched, not the 20,000 held`, async () => {
      // given 20,000 keys in state after batch 1, and 10 keys touched in each later batch
      const dir = await freshDir();
      // when 25 batches run with memory backed by the store
      const { summary, store } = await runJob(job, dir, BATCHES);
      // then batch 1 writes the whole state, and every later batch a delta of its 10 keys: each
      // `["key123",2,3000]`-sized entry is about 20 bytes, so 10 of them and two partitions' framing stay far
      // below 2 KB, while the state held is over 200 KB
      expect(summary.error).toBeUndefined();
      const bytes = store.bytesByBatch(/^persist\//);
      expect(bytes.get(1000)).toBeGreaterThan(200_000);
      for (let time = 2000; time <= BATCHES * 1000; time += 1000) {
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

  const crashes = [
    { name: 'right after a snapshot, before the first delta after it', refused: /^persist\/n\d+@4000\/0$/ },
    { name: 'between the delta writes of a batch', refused: /^persist\/n\d+@5000\/1$/ },
    { name: 'between delta writes, two batches after a snapshot', refused: /^persist\/n\d+@8000\/1$/ },
  ];
  for (const crash of crashes) {
    it(`recovers the exact state after a crash ${crash.name}`, async () => {
      // given the reference: the long run, 12 batches without a crash
      const reference = await runJob(longRunJobs.checkpointEvery3s, await freshDir(), 12);
      expect(reference.summary.error).toBeUndefined();
      // when a run fails at the write of one state block (every attempt), and a new driver and executor (nothing
      // in memory) resume from the metadata checkpoint up to batch 12
      const dir = await freshDir();
      const crashed = await runJob(longRunJobs.checkpointEvery3s, dir, 12, (key) => crash.refused.test(key));
      expect(crashed.summary.error?.message).toMatch(/refused on purpose/);
      const resumed = await runJob(longRunJobs.checkpointEvery3s, dir, 12);
      // then every batch's outputs are those of the uninterrupted run
      expect(resumed.summary.error).toBeUndefined();
      expect(byBatch(crashed, resumed)).toEqual(byBatch(reference));
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
