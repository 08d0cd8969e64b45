import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FetchFailedError } from '../../lib/errors';
import { buildJob } from '../../lib/job/buildJob';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import type { MapStatus, TaskPlan, TaskResult } from '../../lib/plan/Plan';
import { StreamingContext, type StreamingContextOptions } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { TaskControl, TaskRunner } from '../../lib/scheduler/TaskRunner';
import {
  groupsToMerge,
  mergedShuffleKey,
  mergedStatuses,
  mergeShuffle,
} from '../../lib/shuffle/ShuffleMerger';
import { mergeGroupSize } from '../../lib/shuffle/ShuffleOptions';
import { shuffleKey, writeShuffle } from '../../lib/shuffle/ShuffleWriter';
import { CountingBlockStore } from '../../lib/storage/CountingBlockStore';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { decodeSegment } from '../../lib/storage/SegmentedBlob';
import { describeCombiningTable } from '../helpers/combiningTable';
import { connectInProcess } from '../helpers/connectInProcess';
import { issueAt, issuesOf, minimalJob } from '../job/fixtures/jobs';

// Every table in the driver's thread; on worker threads, one case here, so that `unit` runs the real
// worker-thread runner. Every table on worker threads: combiningShuffleOnWorkerThreads.test.ts (`slow`).
describeCombiningTable({ name: 'in-process', workers: 0 });
describeCombiningTable({ name: 'worker threads', workers: 2 }, ['cases.reduceByKey']);

describe('storage requests of a shuffle with M map tasks and R = M reduce partitions', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-combining-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** One batch of a groupByKey from M partitions to M, every map output stored; the shuffle's store calls. */
  async function shuffleRequests(m: number, combine: 'always' | 'never') {
    const options: StreamingContextOptions = {
      batchIntervalMs: 1000,
      shuffle: { combine, inlineMaxBytes: 0 },
    };
    const ssc = new StreamingContext(options);
    // 8 keys per reduce partition in every map partition, so that (nearly) every map × reduce pair is non-empty.
    const records = Array.from({ length: m * m * 8 }, (_, i) => i);
    ssc
      .queueStream([records], { partitions: m })
      .map((i): [number, number] => [i % (m * 8), i])
      .groupByKey(m)
      .map(([key, values]): [number, number] => [key, values.length])
      .collectBatches('out');
    const store = new CountingBlockStore(new LocalFolderStore(join(dir, `${combine}-${m}`)), 'shuffle/');
    connectInProcess(ssc, store, dir);
    const outputs: unknown[][] = [];
    ssc.addListener({ onOutput: (e) => outputs.push([...e.records]) });
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'requests' }).run({ batches: 1 });
    expect(summary.error).toBeUndefined();
    const sorted = (outputs[0] ?? []).map((r) => JSON.stringify(r)).sort();
    const { puts, gets, rangeGets } = store.counts;
    // The batch's clean-up deletes the shuffle prefix the same way in both modes: it is not a shuffle request.
    return { counts: { ...store.counts }, total: puts + gets + rangeGets, sorted };
  }

  for (const m of [4, 16, 64]) {
    it(`M = R = ${m}: direct reads grow as M × R, combining as M + R`, async () => {
      // given a groupByKey from M partitions to M, every map output in the store
      const k = Math.ceil(m / mergeGroupSize(m, m, { combine: 'always' })!);
      // when one batch runs directly, then combining
      const direct = await shuffleRequests(m, 'never');
      const combined = await shuffleRequests(m, 'always');
      // then both give the same groups
      expect(combined.sorted).toEqual(direct.sorted);
      expect(combined.sorted).toHaveLength(m * 8);
      // and direct: M writes and a ranged read per non-empty map × reduce pair (all of them here)
      expect(direct.counts.puts).toBe(m);
      expect(direct.counts.gets).toBe(0);
      expect(direct.counts.rangeGets).toBe(m * m);
      // and combining: M writes, M whole reads and K writes by the merge tasks, K ranged reads per reducer
      expect(combined.counts.puts).toBe(m + k);
      expect(combined.counts.gets).toBe(m);
      expect(combined.counts.rangeGets).toBe(k * m);
      expect(combined.total).toBe(2 * m + k + k * m);
      expect(combined.counts.lists).toBe(direct.counts.lists);
      expect(combined.counts.deletes).toBe(direct.counts.deletes);
      // which stays within a constant times M + R (K is at most 4), where direct does not
      expect(combined.total).toBeLessThanOrEqual(4 * (m + m));
      if (m >= 16) expect(direct.total).toBeGreaterThan(4 * (m + m));
    });
  }
});

/**
 * Holds the first attempt of merge task 1 until a speculative copy of it finished, then lets it run: the
 * straggler a copy exists for.
 */
class HoldingMergeRunner implements TaskRunner {
  readonly name = 'holding';
  readonly parallelism = 8;
  /** The keys of merge outputs whose attempt's result was returned, in order. */
  readonly mergedKeys: string[] = [];
  private release: () => void = () => {};
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private heldRun: Promise<TaskResult> | undefined;

  constructor(private readonly inner: TaskRunner) {}

  async run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
    if (task.stage.shuffleMerge && task.partition === 1 && task.speculative !== true) {
      control?.onStarted?.();
      this.heldRun = this.released.then(() => this.inner.run(task));
      return this.heldRun;
    }
    const result = await this.inner.run(task, control);
    if (task.stage.shuffleMerge && result.ok) this.mergedKeys.push(result.mapStatus!.key);
    if (task.stage.shuffleMerge && task.speculative) this.release();
    return result;
  }

  /** Lets the held attempt go (if no copy did) and waits for it. */
  async drain(): Promise<void> {
    this.release();
    await this.heldRun;
  }

  async close(): Promise<void> {}
}

describe('a straggling merge task', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-merge-copy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gets a copy that writes merged-<group>.copy, and the reducers read what the copy wrote', async () => {
    // given a shuffle of 16 map outputs in 2 merge groups, speculation on, and merge task 1 held back
    const ssc = new StreamingContext({
      batchIntervalMs: 1000,
      shuffle: { combine: 'always', inlineMaxBytes: 0 },
      speculation: { enabled: true, quantile: 0.5, multiplier: 1, minTaskRuntimeMs: 0 },
    });
    const records = Array.from({ length: 16 * 64 }, (_, i) => i);
    ssc
      .queueStream([records], { partitions: 16 })
      .map((i): [number, number] => [i % 32, 1])
      .reduceByKey((a, b) => a + b, 16)
      .collectBatches('out');
    const read: string[] = [];
    const folder = new LocalFolderStore(dir);
    const store = new (class extends CountingBlockStore {
      override getRange(key: string, start: number, end: number) {
        read.push(key);
        return super.getRange(key, start, end);
      }
    })(folder);
    const inner = new InProcessRunner({
      ...localExecutorEnv({ storeDir: dir, outputDir: dir, baseDir: dir }, ssc.functions),
      store,
    });
    const runner = new HoldingMergeRunner(inner);
    ssc.connect({
      store,
      outputs: store,
      runner,
      driverRunner: inner,
      print: () => {},
      appendJsonl: async () => {},
      outputPositions: async () => ({}),
      restoreOutputPositions: async () => {},
    });
    const outputs: unknown[][] = [];
    ssc.addListener({ onOutput: (e) => outputs.push([...e.records]) });
    // when the batch runs
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'merge-copy' }).run({
      batches: 1,
    });
    await runner.drain();
    // then the copy of merge task 1 won, wrote under its own key, and the reducers read it, with every count right
    expect(summary.error).toBeUndefined();
    expect(summary.batches[0]?.speculativeWins).toBeGreaterThanOrEqual(1);
    // (a key names the driver that planned the shuffle, as `keySpace`: see shuffleKey)
    const keySpace = /^shuffle\/1000\/([0-9a-f]+)-0\//.exec(runner.mergedKeys[0] ?? '')?.[1];
    const copyKey = mergedShuffleKey(1000, 0, 1, true, keySpace);
    expect(runner.mergedKeys).toContain(copyKey);
    // (every reducer reads it once; under load a reducer may get a copy of its own, which reads it again)
    expect(read.filter((k) => k === copyKey).length).toBeGreaterThanOrEqual(16);
    expect(read.filter((k) => k === mergedShuffleKey(1000, 0, 1, false, keySpace))).toHaveLength(0);
    const counts = new Map((outputs[0] as [number, number][]) ?? []);
    expect(counts.size).toBe(32);
    expect([...counts.values()].every((n) => n === 32)).toBe(true);
  });
});

describe('a merge task', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-merge-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const spec = {
    shuffleId: 1,
    partitioner: { type: 'hash', numPartitions: 3 },
    keyed: false,
    mapSideCombine: false,
  } as const;
  const noFail = () => {
    throw new Error('no record should fail');
  };

  /** Map outputs of 5 map tasks over 3 reducers, the even ones stored, the odd ones inline. */
  async function mapOutputs(store: LocalFolderStore): Promise<MapStatus[]> {
    const statuses: MapStatus[] = [];
    for (let mapPartition = 0; mapPartition < 5; mapPartition++) {
      const records = Array.from({ length: mapPartition + 2 }, (_, i) => ({ map: mapPartition, i, s: 'é' }));
      const inlineMaxBytes = mapPartition % 2 === 0 ? 0 : 1 << 20;
      const written = await writeShuffle(
        spec,
        { records },
        mapPartition,
        7000,
        store,
        () => noFail,
        noFail,
        inlineMaxBytes,
      );
      statuses.push(written.status);
    }
    return statuses;
  }

  /** What reduce partition r reads from a list of statuses, as the executor reads it. */
  async function readPartition(store: LocalFolderStore, statuses: readonly MapStatus[], r: number) {
    const out: unknown[] = [];
    for (const s of statuses) {
      const [start, end] = [s.offsets[r]!, s.offsets[r + 1]!];
      if (start === end) continue;
      if (s.inline) out.push(...(JSON.parse(s.inline[r]!) as unknown[]));
      else out.push(...decodeSegment(await store.getRange(s.key, start, end)));
    }
    return out;
  }

  it('merges stored and inline outputs of its group so that reducers read the same records in order', async () => {
    // given 5 map outputs, stored and inline mixed, merged in groups of 3 (groups 0-2 and 3-4)
    const store = new LocalFolderStore(dir);
    const statuses = await mapOutputs(store);
    const merge = { shuffleId: 1, groupSize: 3 };
    // when the groups worth merging are merged (group 1 holds one stored output only: not worth it)
    const groups = groupsToMerge(merge, statuses);
    expect(groups).toEqual([0]);
    const merged = new Map<number, MapStatus>();
    for (const g of groups) {
      const group = statuses.slice(g * 3, g * 3 + 3);
      const out = await mergeShuffle(1, group, mergedShuffleKey(7000, 1, g), store);
      expect(out.requests).toBe(3); // two whole reads (outputs 0 and 2), one write
      merged.set(g, out.status);
    }
    const after = mergedStatuses(merge, statuses, merged);
    // then the reducers read merged-0 then map outputs 3 and 4, and see every record in map order
    expect(after.map((s) => s.key)).toEqual([
      mergedShuffleKey(7000, 1, 0),
      shuffleKey(7000, 1, 3),
      shuffleKey(7000, 1, 4),
    ]);
    for (let r = 0; r < 3; r++) {
      expect(await readPartition(store, after, r)).toEqual(await readPartition(store, statuses, r));
    }
  });

  it('writes the same bytes to the same key when it runs again, and a copy to a key of its own', async () => {
    // given a group's map outputs
    const store = new LocalFolderStore(dir);
    const statuses = (await mapOutputs(store)).slice(0, 3);
    // when it merges twice, and a speculative copy merges too
    const first = await mergeShuffle(1, statuses, mergedShuffleKey(7000, 1, 0), store);
    const firstBytes = await store.get(first.status.key);
    const again = await mergeShuffle(1, statuses, mergedShuffleKey(7000, 1, 0), store);
    const copy = await mergeShuffle(1, statuses, mergedShuffleKey(7000, 1, 0, true), store);
    // then the rerun's key, offsets and bytes are the first run's, and the copy's key ends in .copy
    expect(again.status).toEqual(first.status);
    expect(await store.get(again.status.key)).toEqual(firstBytes);
    expect(copy.status.key).toBe(`${first.status.key}.copy`);
    expect(await store.get(copy.status.key)).toEqual(firstBytes);
  });

  it('says which map output is missing, as a FetchFailedError the scheduler recomputes it on', async () => {
    const store = new LocalFolderStore(dir);
    const statuses = (await mapOutputs(store)).slice(0, 3);
    await store.deletePrefix('shuffle/');
    // (the three are read at once: whichever read fails first is named)
    const failed = mergeShuffle(1, statuses, mergedShuffleKey(7000, 1, 0), store);
    await expect(failed).rejects.toBeInstanceOf(FetchFailedError);
    await expect(failed).rejects.toThrow(
      /^map output shuffle\/7000\/1\/[0-2] of shuffle 1 is missing from the store$/,
    );
  });
});

describe('choosing the combining shuffle', () => {
  it('combines from 256 map × reduce pairs by default, in groups of 8 or more, at most 4 groups', () => {
    expect(mergeGroupSize(8, 8)).toBeUndefined();
    expect(mergeGroupSize(16, 16)).toBe(8);
    expect(mergeGroupSize(64, 64)).toBe(16);
    expect(mergeGroupSize(200, 2)).toBe(50);
    expect(mergeGroupSize(3, 3, { combine: 'always' })).toBe(8);
    expect(mergeGroupSize(1, 64, { combine: 'always' })).toBeUndefined();
    expect(mergeGroupSize(64, 64, { combine: 'never' })).toBeUndefined();
    expect(mergeGroupSize(8, 8, { combineMinPairs: 64 })).toBe(8);
    expect(mergeGroupSize(64, 64, { maxMergeTasks: 2 })).toBe(32);
  });

  it('refuses a shuffle setting it cannot follow, naming it', () => {
    const bad = (shuffle: object) => () =>
      new StreamingContext({ batchIntervalMs: 1000, shuffle: shuffle as StreamingContextOptions['shuffle'] });
    expect(bad({ combine: 'sometimes' })).toThrow(/shuffle.combine must be 'auto', 'always' or 'never'/);
    expect(bad({ maxMergeTasks: 0 })).toThrow(/shuffle.maxMergeTasks must be a positive whole number/);
    expect(bad({ inlineMaxBytes: -1 })).toThrow(/shuffle.inlineMaxBytes must be a whole number of bytes/);
  });

  it('takes the setting from a JSON job, and names the field of a bad one', async () => {
    // given a JSON job that turns combining off, and one with a mode that does not exist
    const good = minimalJob({ shuffle: { combine: 'never', inlineMaxBytes: 0 } });
    const bad = minimalJob({ shuffle: { combine: 'sometimes' } });
    // when they are built and validated
    const ssc = await buildJob(good, { baseDir: tmpdir() });
    // then the context holds the setting, and the bad one is refused at its JSON path
    expect(ssc.shuffle).toEqual({ combine: 'never', inlineMaxBytes: 0 });
    expect(issueAt(issuesOf(bad), 'shuffle.combine').message).toMatch(/auto|always|never/);
  });
});
