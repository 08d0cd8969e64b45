import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../../lib/dataset/Dataset';
import { PartitionCache } from '../../lib/dataset/PartitionCache';
import type { StorageLevel } from '../../lib/dataset/StorageLevel';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import type { DStream } from '../../lib/dstream/DStream';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { LocalRuntime } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import { type CheckpointData, readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock, SystemClock } from '../../lib/scheduler/Clock';
import { driveJob } from '../../lib/scheduler/JobDriver';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import {
  BODY_PERSIST_LINES,
  parseNumber,
  transformAndForeachPersisted,
  transformPersisted,
} from '../helpers/bodyPersistJobs';
import { CheckpointSnapshotStore } from '../helpers/checkpointSnapshotStore';
import { connectInProcess } from '../helpers/connectInProcess';

/**
 * A dataset persisted inside a stream's body (`transform`, `foreachRDD`) after the driver restarted (a `kill -9`
 * and a rerun locally, a new coordinator on Lambda): as in Spark, it is computed again from its lineage, never read
 * back from what the run before stored, and it is cleaned up with its batch.
 */

/** A job that caches the dataset its foreachRDD is handed, for worker threads to load. */
const FOREACH_CACHE_JOB = join(
  new URL('../..', import.meta.url).pathname,
  'test/fixtures/foreachCacheJob.ts',
);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-body-persist-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** How one driver's run went: each output's batches, the dead letters its batches wrote, its context. */
interface DriverRun {
  readonly outputs: OutputEvent[];
  readonly letters: DeadLetter[];
  readonly ssc: StreamingContext;
}

/** Settings of one driver's run in this thread. */
interface DriverOptions {
  /** The memory of a worker that outlives the driver (a warm Lambda container). Default: the driver's own. */
  readonly cache?: PartitionCache;
  /** Back memory levels with the store, as the serverless runtime does. */
  readonly memoryBackedByStore?: boolean;
  /** Resume from this checkpoint. Default: the store's, if it holds one. */
  readonly checkpoint?: CheckpointData;
}

/** One driver (a process, or a coordinator invocation) running `build`'s job on `store` up to batch `batches`. */
async function driver(
  store: LocalFolderStore,
  build: (ssc: StreamingContext) => void,
  batches: number,
  options: DriverOptions = {},
): Promise<DriverRun> {
  const ssc = new StreamingContext({ batchIntervalMs: 1000 });
  build(ssc);
  const runner = connectInProcess(ssc, store, dir, {
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.memoryBackedByStore ? { memoryBackedByStore: true } : {}),
  });
  const outputs: OutputEvent[] = [];
  const letters: DeadLetter[] = [];
  ssc.addListener({ onOutput: (e) => outputs.push(e), onDeadLetters: (l) => letters.push(...l) });
  const checkpoint = options.checkpoint ?? (await readCheckpoint(store));
  const summary = await driveJob(ssc, new JobScheduler(ssc, new LogicalClock(), { name: 'body' }), {
    logicalClock: true,
    checkpoint,
    limits: { batches },
    runners: [runner],
  });
  expect(summary.error).toBeUndefined();
  return { outputs, letters, ssc };
}

/** The records of one output, batch by batch, each batch's sorted. */
function recordsOf(run: DriverRun, output: string): Array<[number, unknown[]]> {
  return run.outputs
    .filter((o) => o.output === output)
    .map((o) => [o.batchTime, [...o.records].sort((a, b) => Number(a) - Number(b))] as [number, unknown[]]);
}

/** The numbers of {@link BODY_PERSIST_LINES} batch by batch, from `from` (1-based) to `to`. */
function numbersOf(from: number, to: number): Array<[number, unknown[]]> {
  return BODY_PERSIST_LINES.slice(from - 1, to).map(
    (lines, i) =>
      [(from + i) * 1000, lines.filter((l) => /^\d+$/.test(l)).map(Number)] as [number, unknown[]],
  );
}

describe('a dataset persisted inside transform, after the driver restarted', () => {
  const levels: Array<[string, StorageLevel, DriverOptions]> = [
    ['in the block store', 'blockStore', {}],
    ['in memory backed by the store (the serverless runtime)', 'memory', { memoryBackedByStore: true }],
  ];
  for (const [where, level, options] of levels) {
    it(`is computed for its own batch, never read back from another batch's blocks (${where})`, async () => {
      // given a job that persists its parsed lines inside transform, stopped after batch 2
      const store = new LocalFolderStore(join(dir, 'store'));
      const build = (ssc: StreamingContext) => transformPersisted(ssc, level);
      const first = await driver(store, build, 2, options);
      expect(recordsOf(first, 'numbers')).toEqual(numbersOf(1, 2));
      // when another driver resumes it on the same store, up to batch 4
      const second = await driver(store, build, 4, options);
      // then batches 3 and 4 hold their own numbers, and batch 3 its dead letter, once
      expect(recordsOf(second, 'numbers')).toEqual(numbersOf(3, 4));
      expect(second.letters.map((l) => l.record)).toEqual(['oops']);
    });
  }

  it('is not read from the memory of a worker that outlived the driver (a warm Lambda)', async () => {
    // given a worker whose memory outlives the drivers, as a warm Lambda container outlives a coordinator
    const store = new LocalFolderStore(join(dir, 'store'));
    const cache = new PartitionCache();
    const build = (ssc: StreamingContext) => transformPersisted(ssc, 'memory');
    const first = await driver(store, build, 2, { cache, memoryBackedByStore: true });
    expect(recordsOf(first, 'numbers')).toEqual(numbersOf(1, 2));
    // when the next driver sends that worker the batches after it
    const second = await driver(store, build, 4, { cache, memoryBackedByStore: true });
    // then they hold their own numbers, not those the worker kept of the first driver's batches
    expect(recordsOf(second, 'numbers')).toEqual(numbersOf(3, 4));
    expect(recordsOf(second, 'count')).toEqual([
      [3000, [1]],
      [4000, [1]],
    ]);
  });
});

/**
 * Batches 1 and 2 of `build`'s job run at once, batch 1's last output held until batch 2 completed, and the store as
 * a kill -9 leaves it when the checkpoint batch 2 wrote is on disk: batch 1 stored its dataset, wrote no letter.
 */
async function killedWhileBatch1Ran(
  build: (ssc: StreamingContext) => DStream<number>,
  options: DriverOptions = {},
): Promise<{ snapshot: CheckpointData; snapshotDir: string }> {
  const snapshotDir = join(dir, 'killed');
  const recording = new CheckpointSnapshotStore(
    join(dir, 'store'),
    snapshotDir,
    (written) => written.pendingBatches.includes(1000) && !written.pendingBatches.includes(2000),
  );
  const ssc = new StreamingContext({ batchIntervalMs: 1000, concurrentJobs: 2 });
  let batch2Done = () => {};
  const done2 = new Promise<void>((resolve) => {
    batch2Done = resolve;
  });
  ssc.addListener({ onBatchCompleted: (info) => info.batchTime === 2000 && batch2Done() });
  build(ssc).foreachRDD(async (_ds: Dataset<number>, batchTime) => {
    if (batchTime === 1000) await Promise.race([done2, new Promise((r) => setTimeout(r, 5000))]);
  });
  connectInProcess(ssc, recording, dir, options);
  const run = await new JobScheduler(ssc, new SystemClock(Date.now() - 10_000), { name: 'body' }).run({
    batches: 2,
  });
  expect(run.error).toBeUndefined();
  const snapshot = recording.snapshot;
  expect(snapshot?.lastCompletedBatch).toBe(0);
  expect(await readdir(join(snapshotDir, 'persist'))).not.toEqual([]);
  return { snapshot: snapshot!, snapshotDir };
}

const INCOMPLETE_LINES = [['1', 'oops'], ['2'], ['3']];

describe('a dataset persisted inside transform by a batch that did not complete', () => {
  it('is computed again by the rerun, which writes its dead letters', async () => {
    // given the store as a kill -9 left it while batch 1 ran (it stored its dataset, wrote no letter)
    const lines = INCOMPLETE_LINES;
    const { snapshot, snapshotDir } = await killedWhileBatch1Ran((ssc) =>
      transformPersisted(ssc, 'blockStore', lines),
    );
    // when a driver resumes from that store
    const rerun = await driver(
      new LocalFolderStore(snapshotDir),
      (again) => transformPersisted(again, 'blockStore', lines),
      2,
      { checkpoint: snapshot },
    );
    // then batch 1 is computed again: its numbers, and its dead letter written once
    expect(recordsOf(rerun, 'numbers')).toEqual([
      [1000, [1]],
      [2000, [2]],
    ]);
    expect(rerun.letters.map((l) => [l.batchTime, l.record])).toEqual([[1000, 'oops']]);
  });
});

describe('a persisted dataset of a batch that did not complete, on a worker that outlived the driver', () => {
  /** Lines parsed and persisted in memory by the stream itself, read by two outputs, as `transformPersisted`. */
  const streamPersisted = (ssc: StreamingContext) => {
    const numbers = ssc.queueStream(INCOMPLETE_LINES, { partitions: 1 }).map(parseNumber).persist('memory');
    numbers.collectBatches('numbers');
    numbers.count().collectBatches('count');
    return numbers;
  };
  const jobs: Array<[string, (ssc: StreamingContext) => DStream<number>]> = [
    ["the stream's own", streamPersisted],
    ['one persisted inside transform', (ssc) => transformPersisted(ssc, 'memory', INCOMPLETE_LINES)],
  ];
  for (const [which, build] of jobs) {
    it(`is computed again by the rerun, not served from that memory, so its letters are written (${which})`, async () => {
      // given a worker whose memory outlives the drivers (a warm Lambda container), and the store as a coordinator
      // that died while batch 1 ran left it: the worker holds batch 1's dataset, and no letter was written
      const cache = new PartitionCache();
      const options = { cache, memoryBackedByStore: true };
      const { snapshot, snapshotDir } = await killedWhileBatch1Ran(build, options);
      expect(cache.size).toBeGreaterThan(0);
      // when the next driver resumes from that store and sends that worker its tasks
      const rerun = await driver(new LocalFolderStore(snapshotDir), build, 2, {
        ...options,
        checkpoint: snapshot,
      });
      // then batch 1 is computed again: its numbers, and its dead letter written once
      expect(recordsOf(rerun, 'numbers')).toEqual([
        [1000, [1]],
        [2000, [2]],
      ]);
      expect(rerun.letters.map((l) => [l.batchTime, l.record])).toEqual([[1000, 'oops']]);
    });
  }
});

describe('cleanup of datasets persisted inside transform and foreachRDD', () => {
  it('deletes their blocks and forgets them with their batch', async () => {
    // given a job that persists a dataset in the block store inside transform and inside foreachRDD, every batch
    const store = new LocalFolderStore(join(dir, 'store'));
    const lines = Array.from({ length: 20 }, (_, i) => [String(i)]);
    const sums: number[] = [];
    const build = (ssc: StreamingContext) => {
      transformPersisted(ssc, 'blockStore', lines);
      ssc.queueStream(lines, { partitions: 1 }).foreachRDD(async (ds: Dataset<string>) => {
        const numbers = ds.map(Number).persist('blockStore');
        // and one the function makes from the context, as `sc.parallelize` in Spark's foreachRDD
        const made = ssc.parallelize([1, 2]).persist('blockStore');
        sums.push((await numbers.collect()).reduce((a, b) => a + b, 0) + (await made.count()));
      });
    };
    const built = new StreamingContext({ batchIntervalMs: 1000 });
    build(built);
    // when its 20 batches ran
    const run = await driver(store, build, 20);
    expect(sums).toHaveLength(20);
    // then the store holds no persisted blocks of the batches done but the last, which its streams remember (for
    // their slide, as Spark's do), and the driver tracks none of the others, nor the functions their bodies made
    const persisted = await readdir(join(dir, 'store', 'persist')).catch(() => [] as string[]);
    expect(persisted.filter((key) => !key.endsWith('@20000'))).toEqual([]);
    expect(run.ssc.persistence.size).toBeLessThanOrEqual(3);
    expect(run.ssc.functions.size).toBeLessThanOrEqual(built.functions.size + 2);
  });
});

/** A worker that keeps no partition in memory, as if each task ran on a fresh one: every memory read misses. */
class ForgetfulCache extends PartitionCache {
  override put(): void {}
}

describe('the dataset a foreachRDD is handed, persisted there (rdd.persist() in foreachRDD)', () => {
  it('is kept while its stream remembers the batch, then forgotten, however often a window reads it', async () => {
    // given a stream whose datasets a foreachRDD persists in the block store, and a window over a stream made from
    // it, on workers that keep nothing in memory, so that each window reads its older batches through the lineage
    const store = new LocalFolderStore(join(dir, 'store'));
    const lines = Array.from({ length: 20 }, (_, i) => [String(i + 1)]);
    const build = (ssc: StreamingContext) => {
      const numbers = ssc.queueStream(lines, { partitions: 1 }).map(Number);
      numbers.foreachRDD(async (ds: Dataset<number>) => {
        await ds.persist('blockStore').count();
      });
      numbers
        .map((n: number) => n * 10)
        .window(2000, 1000)
        .collectBatches('windows');
    };
    // when its 20 batches ran
    const run = await driver(store, build, 20, { cache: new ForgetfulCache() });
    // then every window holds its two batches, and the store and the driver keep only what the last batches need
    expect(recordsOf(run, 'windows').at(-1)).toEqual([20000, [190, 200]]);
    const persisted = await readdir(join(dir, 'store', 'persist')).catch(() => [] as string[]);
    expect(persisted.length).toBeLessThanOrEqual(4);
    expect(run.ssc.persistence.size).toBeLessThanOrEqual(4);
  });

  for (const [where, memoryBackedByStore] of [
    ['in memory', false],
    ['in memory backed by the store (the serverless runtime)', true],
  ] as const) {
    it(`gives every window its batches on worker threads, and is forgotten as the job goes on (${where})`, async () => {
      // given `rdd.cache()` inside foreachRDD on a stream a window reads through a map, on two worker threads
      const runtime = await LocalRuntime.start(
        { kind: 'module', path: FOREACH_CACHE_JOB },
        {
          workers: 2,
          clock: 'logical',
          batches: 12,
          storeDir: join(dir, 'store'),
          outputDir: dir,
          write: () => {},
          memoryBackedByStore,
        },
      );
      const windows: unknown[][] = [];
      runtime.ssc.addListener({ onOutput: (e) => windows.push([...e.records].sort()) });
      // when its 12 batches ran
      const summary = await runtime.run();
      // then every window holds its two batches, and the store and the driver keep only the last batches' copies
      expect(summary.error).toBeUndefined();
      expect(windows).toHaveLength(12);
      expect(windows.at(-1)).toEqual([110, 120]);
      const persisted = await readdir(join(dir, 'store', 'persist')).catch(() => [] as string[]);
      expect(persisted.length).toBeLessThanOrEqual(memoryBackedByStore ? 4 : 0);
      expect(runtime.ssc.persistence.size).toBeLessThanOrEqual(4);
    });
  }
});

describe('datasets persisted inside transform and foreachRDD, left by a driver that died before its cleanup', () => {
  it('are deleted by the next driver, and forgotten', async () => {
    // given the store as a driver left it that died once batch 2's checkpoint was written, before the cleanup that
    // deletes what that checkpoint lists of batch 2's bodies
    const snapshotDir = join(dir, 'killed');
    const recording = new CheckpointSnapshotStore(
      join(dir, 'store'),
      snapshotDir,
      (written) => written.lastCompletedBatch === 2000,
    );
    await driver(recording, (ssc) => transformAndForeachPersisted(ssc), 3);
    const snapshot = recording.snapshot;
    const listed = snapshot!.stored.map((s) => s.key).filter((key) => key.endsWith('.0@2000'));
    expect(listed).toHaveLength(2);
    // and, unlisted, what batch 1's cleanup was still deleting then
    for (const key of listed)
      await cp(
        join(snapshotDir, 'persist', key),
        join(snapshotDir, 'persist', key.replace('@2000', '@1000')),
        {
          recursive: true,
        },
      );
    // when the next driver resumes from it, up to batch 4
    const store = new LocalFolderStore(snapshotDir);
    const run = await driver(store, (ssc) => transformAndForeachPersisted(ssc), 4, { checkpoint: snapshot! });
    // then the store holds nothing of those batches' bodies, and the driver tracks none of them: only the last
    // batch's transform result, which its stream remembers (an output remembers no batch)
    expect(await readdir(join(snapshotDir, 'persist'))).toEqual(['n2.0@4000']);
    expect(run.ssc.persistence.size).toBe(1);
  });
});

describe('a static dataset persisted in the block store, after the driver restarted', () => {
  it('is computed again with the functions of the job as it is now', async () => {
    // given a job that adds a static dataset, persisted, to every batch, stopped after batch 2
    const store = new LocalFolderStore(join(dir, 'store'));
    const build = (factor: number) => (ssc: StreamingContext) => {
      const scaled = ssc
        .parallelize([1, 2])
        .map((x: number) => x * factor)
        .persist('blockStore');
      ssc
        .queueStream([['1'], ['2'], ['3'], ['4']], { partitions: 1 })
        .transform((ds: Dataset<string>) => ds.map(Number).union(scaled))
        .collectBatches('numbers');
    };
    await driver(store, build(10), 2);
    // when the job is resumed with a changed function (the graph has the same shape)
    const second = await driver(store, build(100), 4);
    // then the static dataset holds what the changed function makes, as Spark would compute it again
    expect(recordsOf(second, 'numbers')).toEqual([
      [3000, [3, 100, 200]],
      [4000, [4, 100, 200]],
    ]);
  });
});
