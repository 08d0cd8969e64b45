import { appendFile, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { SluiceError } from '../../lib/errors';
import type { JobSource } from '../../lib/job/JobSource';
import { JsonlFiles } from '../../lib/local/JsonlFiles';
import { runBatches } from '../../lib/local/LocalRuntime';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import { StreamingContext } from '../../lib/StreamingContext';
import { type CheckpointData, readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { SystemClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { driveJob } from '../../lib/scheduler/JobDriver';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';

/**
 * A batch whose dead letters are only partly appended (the disk filled after the first line) must leave no
 * checkpoint that records the file with that line: a rerun cuts the file back to the size a checkpoint recorded and
 * writes the batch's letters again, so such a checkpoint made the rerun write that letter twice. The file is real;
 * the append that stops part-way is a wrapper of it, since a real disk cannot be made to fill at one line.
 */

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-dead-letter-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two 100 ms batches of lines, the bad ones dead-lettered; batch 100 is held until `release` is called. */
function context(held: Promise<void>): StreamingContext {
  const ssc = new StreamingContext({ batchIntervalMs: 100, concurrentJobs: 2 });
  const parsed = ssc
    .queueStream(
      [
        ['1', 'x'],
        ['2', 'y', 'z'],
      ],
      { partitions: 1 },
    )
    .map((line: string) => {
      if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
      return Number(line);
    });
  parsed.collectBatches('numbers');
  parsed.foreachRDD(async (_ds, batchTime) => {
    if (batchTime === 100) await held;
  }, 'hold');
  return ssc;
}

describe('a dead-letter write that fails part-way', () => {
  it('leaves no checkpoint with the partial letters, so a rerun writes every letter once', async () => {
    // given batch 100 held until batch 200's append stopped after its first letter
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = context(held);
    const run1 = connectFiles(first, { batchTime: 200, onFailed: release });
    // when the two batches run on the system clock, batch 100 completing after batch 200 failed
    const failed = await drive(first, run1, 2, 'letters');
    // then batch 200 failed with the write's error, and the run stopped with it
    expect(failed.error?.message).toMatch(/^ENOSPC/);
    expect(failed.batches.find((b) => b.batchTime === 200)?.error).toMatch(/^ENOSPC/);
    // when it runs again from its checkpoint with a disk that has room
    const rerun = context(Promise.resolve());
    const run2 = connectFiles(rerun);
    const summary = await drive(rerun, run2, 2, 'letters', await readCheckpoint(run2.store));
    // then each bad line is in the file once
    expect(summary.error).toBeUndefined();
    expect((await fieldOfLines(run2.letters, 'record')).sort()).toEqual(['x', 'y', 'z']);
  });
});

/**
 * Three 100 ms batches run at once, the bad lines dead-lettered and every number written to a jsonl file as the local
 * runtime writes it (held until the batch is committed); batch 300 holds until `release300` and says when it began.
 */
function threeBatches(held300: Promise<void>, began300: () => void): StreamingContext {
  const ssc = new StreamingContext({ batchIntervalMs: 100, concurrentJobs: 3 });
  const parsed = ssc
    .queueStream(
      [
        ['1', 'x'],
        ['2', 'y'],
        ['3', 'z'],
      ],
      { partitions: 1 },
    )
    .map((line: string) => {
      if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
      return Number(line);
    });
  parsed.jsonl({ path: 'numbers.jsonl' });
  parsed.foreachRDD(async (_ds, batchTime) => {
    if (batchTime !== 300) return;
    began300();
    await held300;
  }, 'hold');
  return ssc;
}

/**
 * Connects `ssc` as the local runtime does (a jsonl file held until commit, sizes in the checkpoint, cut back on a
 * restart) with a dead-letter file whose append for `failing` batch waits for `failing.after` (if given), writes its
 * first line and throws.
 */
function connectFiles(
  ssc: StreamingContext,
  failing?: { batchTime: number; after?: Promise<void>; onFailed: () => void },
) {
  const letters = join(dir, 'dead-letter.jsonl');
  const numbers = join(dir, 'numbers.jsonl');
  const store = new LocalFolderStore(join(dir, 'store'));
  const runner = new InProcessRunner(
    localExecutorEnv({ storeDir: join(dir, 'store'), outputDir: dir, baseDir: dir }, ssc.functions),
  );
  const held = new JsonlFiles();
  const lines = (batch: readonly DeadLetter[]) => batch.map((l) => `${JSON.stringify(l)}\n`);
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner: runner,
    print: () => {},
    appendJsonl: async (path, line, batchTime) => held.hold(join(dir, path!), line, batchTime),
    commitOutputs: (batchTimes) => held.commit(batchTimes),
    discardOutputs: (batchTime) => held.discard(batchTime),
    outputPositions: async () => {
      const size = async (file: string) => (await stat(file).catch(() => undefined))?.size ?? 0;
      return { [letters]: await size(letters), [numbers]: await size(numbers) };
    },
    restoreOutputPositions: async (positions) => {
      for (const [path, size] of Object.entries(positions)) await truncate(path, size).catch(() => {});
    },
    writeDeadLetters: async (batch, batchTime) => {
      if (batchTime !== failing?.batchTime) return appendFile(letters, lines(batch).join(''));
      await failing.after;
      await appendFile(letters, lines(batch)[0]!);
      failing.onFailed();
      throw new Error(`ENOSPC: no space left on device, write '${letters}'`);
    },
  });
  return { store, runner, letters, numbers };
}

/** Runs `ssc` on the system clock for `batches` batches, from `checkpoint` when given. */
function drive(
  ssc: StreamingContext,
  run: ReturnType<typeof connectFiles>,
  batches: number,
  name: string,
  checkpoint?: CheckpointData,
) {
  return driveJob(ssc, new JobScheduler(ssc, new SystemClock(), { name }), {
    logicalClock: false,
    ...(checkpoint ? { checkpoint } : {}),
    limits: { batches },
    runners: [run.runner],
  });
}

/** The `field` of every JSON line of `file`, in file order. */
async function fieldOfLines(file: string, field: string): Promise<unknown[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line)[field]);
}

describe('batches that complete after a failed dead-letter write', () => {
  it('are not checkpointed, and a rerun writes their outputs and letters once', async () => {
    // given batch 200's dead-letter append failing once batch 300 began, and batch 300 held until it failed
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let began = () => {};
    const began300 = new Promise<void>((resolve) => {
      began = resolve;
    });
    const first = threeBatches(held, began);
    const run1 = connectFiles(first, { batchTime: 200, after: began300, onFailed: release });
    // when the three batches run on the system clock, batch 300 completing after batch 200 failed
    const failed = await drive(first, run1, 3, 'later');
    // then batch 200 failed, batch 300 completed, and the checkpoint still ends at batch 100
    expect(failed.error?.message).toMatch(/^ENOSPC/);
    expect(failed.batches.find((b) => b.batchTime === 300)?.error).toBeUndefined();
    expect((await readCheckpoint(run1.store))?.lastCompletedBatch).toBe(100);
    // and batch 300's letter is in the file after batch 200's partial one, its jsonl line held back, unwritten
    expect(await fieldOfLines(run1.letters, 'record')).toEqual(['x', 'y', 'z']);
    expect((await readFile(run1.numbers, 'utf8')).trim().split('\n')).toHaveLength(1);
    // when it runs again from that checkpoint with a disk that has room
    const rerun = threeBatches(Promise.resolve(), () => {});
    const run2 = connectFiles(rerun);
    const summary = await drive(rerun, run2, 3, 'later', await readCheckpoint(run2.store));
    // then batches 200 and 300 ran again, and every batch's line and every letter is in its file once
    expect(summary.error).toBeUndefined();
    expect(await fieldOfLines(run2.numbers, 'batchTime')).toEqual([100, 200, 300]);
    expect((await fieldOfLines(run2.letters, 'record')).sort()).toEqual(['x', 'y', 'z']);
  });
});

describe('a dead-letter file that cannot be written, in a local run', () => {
  it('fails its batch with the file and the reason, and a rerun writes every letter once', async () => {
    // given a file where the dead-letter file's folder should be
    const folder = join(dir, 'letters');
    const file = join(folder, 'letters.jsonl');
    await writeFile(folder, 'not a folder\n');
    const job = { kind: 'module', path: jobs, exportName: 'malformedRecords' } as const;
    const options = { storeDir: join(dir, 'store'), deadLetterPath: file };
    // when the job runs, then it stops at the first batch, naming the file and what becomes of the batch
    const result = await runBatches(job, 2, options);
    expect(result.error?.message).toMatch(
      new RegExp(
        `^batch 1000 ran, but its dead letters could not be appended to ${file}: ENOTDIR.*; it is not counted as done, and the next run writes them again$`,
      ),
    );
    // when the folder is made and the job runs again on the same store
    await rm(folder);
    await mkdir(folder);
    const rerun = await runBatches(job, 2, options);
    // then the bad record of batch 1000 is in the file once
    expect(rerun.error).toBeUndefined();
    const letters = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).batchTime);
    expect(letters).toEqual([1000]);
  });

  it('is refused before the first batch when a folder is at its path, and so is a jsonl output', async () => {
    // given a folder where the store's dead-letter file should be
    const storeDir = join(dir, 'store');
    await mkdir(join(storeDir, 'dead-letter.jsonl'), { recursive: true });
    const job = { kind: 'module', path: jobs, exportName: 'malformedRecords' } as const;
    // when the job runs, then it is refused, naming the file and what to do, and no checkpoint records a size
    await expect(runBatches(job, 2, { storeDir })).rejects.toThrow(
      new SluiceError(
        `the dead-letter file ${join(storeDir, 'dead-letter.jsonl')} is a folder, where the run appends lines to a file: remove or rename it, or give the run another --store`,
      ),
    );
    expect(await readCheckpoint(new LocalFolderStore(storeDir))).toBeUndefined();
    // given the folder gone and one where a jsonl output's file should be
    await rm(join(storeDir, 'dead-letter.jsonl'), { recursive: true });
    await mkdir(join(dir, 'out', 'numbers.jsonl'), { recursive: true });
    const numbers: JobSource = {
      kind: 'document',
      baseDir: dir,
      document: {
        name: 'numbers',
        batchIntervalMs: 1000,
        sources: { lines: { type: 'queue', batches: [['1']] } },
        outputs: [{ stream: 'lines', type: 'jsonl', path: 'numbers.jsonl' }],
      },
    };
    // when it runs, then it is refused the same way
    await expect(runBatches(numbers, 1, { storeDir, outputDir: join(dir, 'out') })).rejects.toThrow(
      `the jsonl output ${join(dir, 'out', 'numbers.jsonl')} is a folder, where the run appends lines to a file: remove or rename it, or give the output another path`,
    );
  });
});
