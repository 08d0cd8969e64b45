import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spillKey } from '../../lib/aws/WorkerRuntime';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { buildJob } from '../../lib/job/buildJob';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import type { TaskPlan } from '../../lib/plan/Plan';
import { StreamingContext, type StreamingContextOptions } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { SpeculationPolicy } from '../../lib/scheduler/SpeculationPolicy';
import type { BatchInfo } from '../../lib/scheduler/StreamingListener';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import { writeShuffle } from '../../lib/shuffle/ShuffleWriter';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { fixturesDir, issuesOf, minimalJob } from '../job/fixtures/jobs';

describe('SpeculationPolicy', () => {
  it('judges nothing until the quantile of the stage finished', () => {
    // given Spark's defaults, and a stage of 8 tasks
    const policy = new SpeculationPolicy();
    // when 5 finished (below 0.75 × 8 = 6), then 6
    // then there is no threshold, then one
    expect(policy.thresholdMs([50, 50, 50, 50, 50], 8)).toBeUndefined();
    expect(policy.thresholdMs([50, 50, 50, 50, 50, 50], 8)).toBeDefined();
  });

  it('copies only tasks running longer than multiplier × the median of the finished ones', () => {
    // given a floor below the medians
    const policy = new SpeculationPolicy({ quantile: 0.5, multiplier: 1.5, minTaskRuntimeMs: 10 });
    // when tasks finished in 100, 200 and 900 ms (median 200) out of 4
    // then a task is a straggler past 300 ms, not before
    expect(policy.thresholdMs([900, 100, 200], 4)).toBe(300);
    // and an even count takes the mean of the two middle durations: (100 + 300) / 2 × 1.5
    expect(policy.thresholdMs([100, 300], 4)).toBe(300);
  });

  it('never copies a task before the floor, however short the median', () => {
    // given tasks that finished in a few ms
    const policy = new SpeculationPolicy({ minTaskRuntimeMs: 100 });
    // when the threshold is asked for
    // then it is the floor
    expect(policy.thresholdMs([2, 3, 4], 4)).toBe(100);
  });

  it('never copies the task of a one-task stage, nor any once every task finished', () => {
    const policy = new SpeculationPolicy({ quantile: 0.1 });
    expect(policy.thresholdMs([], 1)).toBeUndefined();
    expect(policy.thresholdMs([5, 5], 2)).toBeUndefined();
  });

  it('refuses settings outside their ranges, naming them', () => {
    expect(() => new SpeculationPolicy({ quantile: 0 })).toThrow(/quantile must be above 0/);
    expect(() => new SpeculationPolicy({ quantile: 1.5 })).toThrow(/quantile must be above 0 and at most 1/);
    expect(() => new SpeculationPolicy({ multiplier: 0.9 })).toThrow(/multiplier must be .* at least 1/);
    expect(() => new SpeculationPolicy({ minTaskRuntimeMs: -1 })).toThrow(/minTaskRuntimeMs/);
    expect(() => new StreamingContext({ batchIntervalMs: 1000, speculation: { quantile: 2 } })).toThrow(
      /quantile/,
    );
  });
});

describe("a speculative copy's shuffle output", () => {
  it('goes to a key of its own, so the map status of either attempt names only its own bytes', async () => {
    // given a map task's records, and a store
    const dir = await mkdtemp(join(tmpdir(), 'sluice-copy-shuffle-'));
    const store = new LocalFolderStore(dir);
    const spec = {
      shuffleId: 3,
      partitioner: { type: 'hash', numPartitions: 2 },
      keyed: true,
      mapSideCombine: false,
    } as const;
    const input = {
      records: [
        ['a', 1],
        ['b', 2],
      ] as unknown[],
    };
    const write = (speculative: boolean) =>
      writeShuffle(
        spec,
        input,
        1,
        2000,
        store,
        () => () => {},
        () => {},
        0,
        speculative,
      );
    try {
      // when the original and its copy write it (through storage, not inline)
      const original = await write(false);
      const copy = await write(true);
      // then each status names a blob of its own under the batch's shuffle prefix, removed with it
      expect(original.status.key).toBe('shuffle/2000/3/1');
      expect(copy.status.key).toBe('shuffle/2000/3/1.copy');
      expect(await store.list('shuffle/2000/')).toEqual(['shuffle/2000/3/1', 'shuffle/2000/3/1.copy']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a speculative copy's spilled result", () => {
  it('goes to a key of its own, so the answer of either attempt names only its own result', () => {
    // given a task and its copy (same attempt number)
    const task = { batchTime: 2000, partition: 1, attempt: 0, stage: { stageId: 4 } } as TaskPlan;
    // when a worker spills each one's result
    // then the keys differ
    expect(spillKey(task)).toBe('spill/2000/4-1-0.json');
    expect(spillKey({ ...task, speculative: true })).toBe('spill/2000/4-1-0.copy.json');
  });
});

describe('speculation in a job document', () => {
  it('is read into the context', async () => {
    // given a document that sets speculation
    const doc = minimalJob({ speculation: { enabled: false, multiplier: 2, minTaskRuntimeMs: 50 } });
    // when it is built
    const ssc = await buildJob(doc, { baseDir: fixturesDir });
    // then the context has the settings
    expect(ssc.speculation).toEqual({ enabled: false, multiplier: 2, minTaskRuntimeMs: 50 });
  });

  it('is refused out of range, with the JSON path of the field', () => {
    expect(issuesOf(minimalJob({ speculation: { quantile: 1.5 } })).map((i) => i.path)).toEqual([
      'speculation.quantile',
    ]);
    expect(issuesOf(minimalJob({ speculation: { copies: 2 } }))[0]?.path).toMatch(/^speculation/);
  });
});

/** A task that hangs: its first attempt waits until the test lets it go. */
class Straggler {
  /** @param rejects a record every attempt dead-letters, when set */
  constructor(private readonly rejects?: number) {}

  calls = 0;
  finished = false;
  private letGo!: () => void;
  private readonly released = new Promise<void>((resolve) => {
    this.letGo = resolve;
  });

  /** The mapPartitions function: partition 1's first call straggles, every other call is quick. */
  readonly fn = async (
    all: number[],
    partition: number,
    fail: (record: unknown, error: unknown) => void,
  ): Promise<number[]> => {
    const records = all.filter((r) => r !== this.rejects);
    if (records.length < all.length) fail(this.rejects, new Error(`${this.rejects} is rejected`));
    if (partition === 1 && this.calls++ === 0) {
      await this.released;
      this.finished = true;
      return records.map(() => -1); // a result the batch must never show: the copy's was taken
    }
    return records.map((r) => r * 10);
  };

  release(): void {
    this.letGo();
  }
}

describe('speculation in the DAG scheduler, on the in-process runner', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-speculation-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs one batch of a 2-partition stage whose partition 1 straggles; `release` decides when it answers. */
  async function runStraggling(
    options: Partial<StreamingContextOptions>,
    runtimeDefault: boolean,
    release: (straggler: Straggler, info: BatchInfo | undefined) => void,
    rejects?: number,
  ) {
    const ssc = new StreamingContext({ batchIntervalMs: 1000, ...options });
    const straggler = new Straggler(rejects);
    // The executor awaits a mapPartitions function's promise; its declared type only admits iterables.
    const fn = straggler.fn as unknown as (records: number[], partition: number) => number[];
    const deadLetters: DeadLetter[] = [];
    ssc
      .queueStream([[1, 2, 3, 4], []], { partitions: 2 })
      .mapPartitions(fn)
      .collectBatches('out');
    const store = new LocalFolderStore(dir);
    const runner = new InProcessRunner(
      localExecutorEnv({ storeDir: dir, outputDir: dir, baseDir: dir }, ssc.functions),
    );
    ssc.connect({
      store,
      outputs: store,
      runner,
      driverRunner: runner,
      speculationByDefault: runtimeDefault,
      print: () => {},
      appendJsonl: async () => {},
      outputPositions: async () => ({}),
      restoreOutputPositions: async () => {},
      writeDeadLetters: async (letters) => {
        deadLetters.push(...letters);
      },
    });
    const outputs: OutputEvent[] = [];
    const finishedAtBatchEnd: boolean[] = [];
    ssc.addListener({
      onOutput: (e) => outputs.push(e),
      onBatchCompleted: (info) => {
        finishedAtBatchEnd.push(straggler.finished);
        release(straggler, info);
      },
    });
    release(straggler, undefined);
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'speculation' }).run({
      batches: 1,
    });
    const finishedAtRunEnd = straggler.finished;
    straggler.release(); // in any case, so nothing is left hanging
    return { summary, outputs, straggler, finishedAtBatchEnd, finishedAtRunEnd, deadLetters };
  }

  /** Lets the straggler go only once the batch completed. */
  const afterTheBatch = (straggler: Straggler, info: BatchInfo | undefined) => {
    if (info) straggler.release();
  };

  it('copies the straggler once the other task finished, and the batch ends with the copy', async () => {
    // given a job that turns speculation on, on a runtime where it is off by default
    // when its one batch runs while task 1's first attempt hangs until the batch completed
    const { summary, outputs, straggler, finishedAtBatchEnd } = await runStraggling(
      { speculation: { enabled: true } },
      false,
      afterTheBatch,
    );
    // then a copy was launched and won, the batch completed before the straggler did, with the copy's records
    expect(summary.error).toBeUndefined();
    const [batch] = summary.batches;
    expect(batch?.speculativeTasks).toBe(1);
    expect(batch?.speculativeWins).toBe(1);
    expect(finishedAtBatchEnd).toEqual([false]);
    expect(straggler.calls).toBe(2);
    expect([...outputs[0]!.records].sort()).toEqual([10, 20, 30, 40]);
  });

  it('writes the dead letters of a copied task once, though both attempts rejected the record', async () => {
    // given the straggling partition holding a record every attempt dead-letters, and a straggler that
    // answers too, as soon as its copy won
    const { summary, straggler, deadLetters } = await runStraggling(
      { speculation: { enabled: true } },
      false,
      afterTheBatch,
      4,
    );
    // then both attempts ran and rejected it, and the batch wrote one letter
    expect(summary.batches[0]?.speculativeWins).toBe(1);
    expect(straggler.calls).toBe(2);
    expect(deadLetters.map((l) => l.record)).toEqual([4]);
    expect(summary.batches[0]?.deadLetters).toBe(1);
  });

  it('follows the runtime default when the job does not say', async () => {
    // given a runtime with speculation on by default (as the serverless one), and a job silent about it
    // when the straggler hangs until the batch completed
    const { summary } = await runStraggling({}, true, afterTheBatch);
    // then it was copied
    expect(summary.batches[0]?.speculativeWins).toBe(1);
  });

  it('ends the run though the losing attempt still hangs: its end waits for a loser only so long', async () => {
    // given a straggler let go only after the run returned
    // when its batch runs
    const { summary, finishedAtRunEnd } = await runStraggling(
      { speculation: { enabled: true } },
      false,
      () => {},
    );
    // then the run ended with the copy's result while the loser had not, and did not wait for it
    expect(summary.error).toBeUndefined();
    expect(summary.batches[0]?.speculativeWins).toBe(1);
    expect(finishedAtRunEnd).toBe(false);
  });

  it('launches no copy when the job turns speculation off, so the batch waits for the straggler', async () => {
    // given a runtime with speculation on by default and a job that turns it off
    // when the straggler answers well past the threshold (the floor of 100 ms)
    const { summary, outputs } = await runStraggling(
      { speculation: { enabled: false } },
      true,
      (straggler, info) => {
        if (!info) void sleep(300).then(() => straggler.release());
      },
    );
    // then no copy ran, and the straggler's own result is the batch's
    expect(summary.batches[0]?.speculativeTasks).toBe(0);
    expect([...outputs[0]!.records].sort()).toEqual([-1, -1, 10, 20]);
  });
});

/** The local store, telling when a deletion of keys under one of `watched` prefixes completed. */
class WatchedStore extends LocalFolderStore {
  private readonly pending: Map<string, () => void>;
  /** Resolves once every watched prefix saw a deletion complete. */
  readonly deleted: Promise<unknown>;

  constructor(dir: string, watched: readonly string[]) {
    super(dir);
    this.pending = new Map();
    this.deleted = Promise.all(
      watched.map((prefix) => new Promise<void>((resolve) => this.pending.set(prefix, resolve))),
    );
  }

  override async deletePrefix(prefix: string): Promise<void> {
    await super.deletePrefix(prefix);
    for (const [watched, resolve] of this.pending) if (prefix.startsWith(watched)) resolve();
  }
}

describe('the losing attempt of a copied task', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-speculation-loser-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves neither its persisted block nor its shuffle output once its batch was cleaned up', async () => {
    // given a map stage of 2 tasks whose output is persisted in the store and shuffled through it, and whose
    // task 1 straggles until the batch's cleanup deleted both (so the copy wins, and the loser writes after)
    const ssc = new StreamingContext({
      batchIntervalMs: 1000,
      speculation: { enabled: true },
      shuffle: { inlineMaxBytes: 0 },
    });
    const straggler = new Straggler();
    // The executor awaits a mapPartitions function's promise; its declared type only admits iterables.
    const fn = straggler.fn as unknown as (records: number[], partition: number) => number[];
    ssc
      .queueStream([[1, 2, 3, 4], []], { partitions: 2 })
      .mapPartitions(fn)
      .persist('blockStore')
      .map((n): [string, number] => [String(n % 2), n])
      .reduceByKey((a, b) => a + b)
      .collectBatches('out');
    const store = new WatchedStore(dir, ['persist/', 'shuffle/1000/']);
    // Every attempt the in-process runner runs is kept, so the test can wait for the last one to end.
    const attempts: Promise<unknown>[] = [];
    connectInProcess(ssc, store, dir, {
      wrapRunner: (inner): TaskRunner => ({
        name: inner.name,
        parallelism: inner.parallelism,
        close: () => inner.close(),
        run: (task, control) => {
          const attempt = inner.run(task, control);
          attempts.push(attempt);
          return attempt;
        },
      }),
    });
    void store.deleted.then(() => straggler.release());
    // when its batch runs, and the next one, after which the stream forgets it (it remembers its previous batch, as
    // Spark's does), and the loser has ended too
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'loser' }).run({ batches: 2 });
    straggler.release(); // in any case, so nothing is left hanging
    await Promise.all(attempts);
    await ssc.cleanupsDone();
    // then the copy won, the loser did run to its end after the cleanup, and the store holds nothing of the batch
    expect(summary.error).toBeUndefined();
    expect(summary.batches[0]?.speculativeWins).toBe(1);
    expect(straggler.finished).toBe(true);
    const ofBatch = (keys: string[]) =>
      keys.filter((key) => key.includes('@1000/') || key.includes('/1000/'));
    expect({
      persisted: ofBatch(await store.list('persist/')),
      shuffled: ofBatch(await store.list('shuffle/')),
    }).toEqual({ persisted: [], shuffled: [] });
  });
});
