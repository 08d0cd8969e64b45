import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { StreamingContext } from '../../lib/StreamingContext';
import { readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/** A job that collects one source's batches as they come, in one partition so their order is the source's. */
function collectJob(name: string, source: Record<string, unknown>) {
  return {
    name,
    batchIntervalMs: 1000,
    defaultPartitions: 1,
    sources: { input: source },
    outputs: [{ stream: 'input', type: 'collectBatches' }],
  };
}

describe('maxRatePerSec', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-maxrate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('caps a queue source per batch and brings the held-back records in later batches', async () => {
    // given 10 records in the first interval, 2 in the second, at most 4 a second
    const job = collectJob('queue-cap', {
      type: 'queue',
      batches: [
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [11, 12],
      ],
      maxRatePerSec: 4,
    });
    // when 5 batches run
    const result = await runBatches({ kind: 'document', document: job, baseDir: dir }, 5);
    // then
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('input')).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [], []]);
    expect(result.batches.map((b) => b.records)).toEqual([4, 4, 4, 0, 0]);
  });

  it('caps the generator, whose batches stay contiguous index ranges, across a restart', async () => {
    // given tweets at 1,000 a second, at most 300 a second taken
    const job = collectJob('generator-cap', {
      type: 'generator',
      kind: 'tweets',
      ratePerSec: 1000,
      maxRatePerSec: 300,
    });
    const source = { kind: 'document', document: job, baseDir: dir } as const;
    const storeDir = join(dir, 'store');
    // when 3 batches run, and the job is started again on the same store to run through batch 5
    const first = await runBatches(source, 3, { storeDir });
    const resumed = await runBatches(source, 5, { storeDir });
    // then every batch took 300 tweets, the ids following on without a gap or a repeat
    const ids = [...first.recordsOf('input'), ...resumed.recordsOf('input')].map((batch) =>
      (batch as { id: number }[]).map((t) => t.id),
    );
    expect(ids.map((b) => b.length)).toEqual([300, 300, 300, 300, 300]);
    expect(ids.flat()).toEqual(Array.from({ length: 1500 }, (_, i) => i));
  });

  it('caps a folder source, leaving lines in the folder for later batches, across a restart', async () => {
    // given a watched folder that receives 2 files of 5 and 4 lines once the first batch ran, at most 3 lines a second
    const folder = join(dir, 'in');
    await mkdir(folder);
    const job = collectJob('folder-cap', { type: 'textFileStream', directory: 'in', maxRatePerSec: 3 });
    const source = { kind: 'document', document: job, baseDir: dir } as const;
    const storeDir = join(dir, 'store');
    const dropFiles = {
      onBatchCompleted: (info: { batchTime: number }) => {
        if (info.batchTime !== 1000) return;
        writeFileSync(join(folder, 'a.txt'), 'a1\na2\na3\na4\na5\n');
        writeFileSync(join(folder, 'b.txt'), 'b1\nb2\nb3\nb4\n');
      },
    };
    // when 3 batches run, then the job is started again to run through batch 6
    const first = await runBatches(source, 3, { storeDir, listeners: [dropFiles] });
    const resumed = await runBatches(source, 6, { storeDir });
    // then at most 3 lines a batch, every line once, in order
    expect([...first.recordsOf('input'), ...resumed.recordsOf('input')]).toEqual([
      [],
      ['a1', 'a2', 'a3'],
      ['a4', 'a5', 'b1'],
      ['b2', 'b3', 'b4'],
      [],
      [],
    ]);
  });
});

describe('a rate-limited batch recovered after a failure', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-maxrate-recovery-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A rate-limited generator job on `dir`'s store whose batches fail from tweet id `failFrom` on. */
  function capped(maxRatePerSec: number, failFrom = Number.POSITIVE_INFINITY) {
    const ssc = new StreamingContext({ batchIntervalMs: 1000, defaultPartitions: 1, maxTaskAttempts: 1 });
    ssc
      .generatorStream({ kind: 'tweets', ratePerSec: 1000 }, 1, { maxRatePerSec })
      // A partition that throws fails its task (a record rejected by `map` would only be a dead letter).
      .mapPartitions((tweets: { id: number }[]) => {
        const late = tweets.find((tweet) => tweet.id >= failFrom);
        if (late) throw new Error(`tweet ${late.id} is not welcome yet`);
        return tweets.map((tweet) => tweet.id);
      })
      .collectBatches('ids');
    const store = new LocalFolderStore(join(dir, 'store'));
    connectInProcess(ssc, store, dir);
    const ids: number[][] = [];
    ssc.addListener({ onOutput: (e) => ids.push([...(e.records as number[])]) });
    return { ssc, store, ids, scheduler: new JobScheduler(ssc, new LogicalClock(), { name: 'capped' }) };
  }

  it('reruns exactly the range its first run took, even when the rate changed in between', async () => {
    // given a job capped at 300 a second whose second batch fails
    const first = capped(300, 300);
    const failed = await first.scheduler.run({ batches: 3 });
    expect(failed.error?.message).toMatch(/not welcome/);
    // when it is started again from its checkpoint with a cap of 500
    const again = capped(500);
    await again.scheduler.restore((await readCheckpoint(again.store))!);
    const resumed = await again.scheduler.run({ batches: 3 });
    // then batch 2 is the 300 tweets it took the first time, and batch 3 goes on from there at the new cap
    expect(resumed.error).toBeUndefined();
    expect(first.ids).toEqual([Array.from({ length: 300 }, (_, i) => i)]);
    expect(again.ids).toEqual([
      Array.from({ length: 300 }, (_, i) => 300 + i),
      Array.from({ length: 500 }, (_, i) => 600 + i),
    ]);
  });
});
