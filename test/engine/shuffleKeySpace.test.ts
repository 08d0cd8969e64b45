import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskPlan, TaskResult } from '../../lib/plan/Plan';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { TaskControl, TaskRunner } from '../../lib/scheduler/TaskRunner';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/**
 * Two drivers running the same batch on one store: what a coordinator frozen past its lease and its successor do
 * on Lambda. Shuffle ids are counted per driver, so both plan shuffle 0 of batch 1000; neither may read or delete
 * the other's map outputs.
 */
describe('shuffle blobs of two drivers running the same batch', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-keyspace-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A driver whose batch 1 sums generated values by key into 4 partitions, every map output stored. The generator
   * is a direct source (no input block), so only the shuffle's blobs can meet in the store; each seed gives other
   * data, hence other offsets, as a recomputed batch on other input would.
   */
  function driver(store: BlockStore, seed: number, runner?: (inner: TaskRunner) => TaskRunner) {
    const ssc = new StreamingContext({
      batchIntervalMs: 1000,
      shuffle: { combine: 'never', inlineMaxBytes: 0 },
    });
    ssc
      .generatorStream({ kind: 'kv', ratePerSec: 200 * seed, seed, keys: 40 }, 4)
      .map((r: { key: string; value: number }): [string, number] => [r.key, r.value])
      .groupByKey(4)
      .map(([key, values]): [string, number] => [key, values.reduce((a, b) => a + b, 0)])
      .collectBatches('sums');
    connectInProcess(ssc, store, dir, runner ? { wrapRunner: runner } : {});
    const sums: Array<[string, number]> = [];
    ssc.addListener({ onOutput: (e) => sums.push(...(e.records as Array<[string, number]>)) });
    const run = () => new JobScheduler(ssc, new LogicalClock(), { name: 'keyspace' }).run({ batches: 1 });
    return { run, sums };
  }

  /** What a driver computes alone, on a store of its own. */
  async function alone(seed: number): Promise<Array<[string, number]>> {
    const solo = driver(new LocalFolderStore(join(dir, `alone-${seed}`)), seed);
    expect((await solo.run()).error).toBeUndefined();
    return solo.sums.sort();
  }

  it('neither overwrites nor deletes the map outputs of the other', async () => {
    // given one store; a stale driver (a coordinator frozen past its lease) that resumes with the same batch
    // while its successor is between the map and reduce sides of that batch's shuffle
    const store = new LocalFolderStore(join(dir, 'store'));
    const staleGate = gate(() => true); // before its first task
    const successorGate = gate((task) => task.stage.shuffleReads.length > 0); // before its reduce side
    const stale = driver(store, 2, staleGate.wrap);
    const successor = driver(store, 5, successorGate.wrap);
    const staleRun = stale.run();
    await staleGate.reached;
    const successorRun = successor.run();
    await successorGate.reached;
    // when the stale driver runs the whole batch (its map outputs, its reduce side, its clean-up), and only then
    // the successor reads its map outputs
    staleGate.release();
    const staleSummary = await staleRun;
    successorGate.release();
    const successorSummary = await successorRun;
    // then both computed their own data
    expect(staleSummary.error).toBeUndefined();
    expect(successorSummary.error).toBeUndefined();
    expect(stale.sums.sort()).toEqual(await alone(2));
    expect(successor.sums.sort()).toEqual(await alone(5));
    // and each deleted its own blobs when its batch completed
    expect(await store.list('shuffle/')).toEqual([]);
  });

  it('a new driver deletes the blobs a dead one left, which no batch of its own reads', async () => {
    // given a blob left under the shuffle prefix by a driver that died mid-batch
    const store = new LocalFolderStore(join(dir, 'store'));
    await store.put('shuffle/1000/deadbeef-0/2', 'left behind');
    // when a new driver runs
    const summary = await driver(store, 1).run();
    // then it ran, and nothing is left under the prefix
    expect(summary.error).toBeUndefined();
    expect(await store.list('shuffle/')).toEqual([]);
  });
});

/** A runner wrapper that holds the first task matching `when`, and every later one, until `release()`. */
function gate(when: (task: TaskPlan) => boolean) {
  let reached!: () => void;
  let release!: () => void;
  const reachedP = new Promise<void>((r) => {
    reached = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  let open = false;
  const wrap = (inner: TaskRunner): TaskRunner => ({
    name: inner.name,
    parallelism: inner.parallelism,
    async run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
      if (!open && when(task)) {
        reached();
        await released;
      }
      return inner.run(task, control);
    },
    close: () => inner.close(),
  });
  return {
    wrap,
    reached: reachedP,
    release: () => {
      open = true;
      release();
    },
  };
}
