import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointMismatchError } from '../../lib/errors';
import type { JobSource } from '../../lib/job/JobSource';
import { runBatches } from '../../lib/local/LocalRuntime';

/**
 * A job document changed between two runs on one store. Functions may change; what a checkpointed state or
 * incremental window was computed with may not: resumed under other partitions, a state lost keys and counted
 * others twice, and a longer window kept the shorter one's values for good, each without a word.
 */

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** Every batch holds each key once; the state counts them, checkpointed every 2 batches. */
const job = (stateOp: Record<string, unknown>, name = 'changed'): JobSource => ({
  kind: 'document',
  baseDir: '.',
  document: {
    name,
    batchIntervalMs: 1000,
    checkpointIntervalMs: 2000,
    sources: { keys: { type: 'queue', batches: Array.from({ length: 10 }, () => KEYS) } },
    streams: {
      pairs: { from: 'keys', ops: [{ op: 'map', expr: '[$, 1]' }] },
      counts: { from: 'pairs', ops: [stateOp] },
    },
    outputs: [{ stream: 'counts', type: 'collectBatches' }],
  },
});

const counting = (partitions: number) => ({ op: 'updateStateByKey', fn: 'countState', partitions });
const windowOf = (windowMs: number) => ({
  op: 'reduceByKeyAndWindow',
  fn: 'sum',
  invFn: 'subtract',
  windowMs,
  slideMs: 1000,
});
const mapping = (partitions: number) => ({ op: 'mapWithState', fn: 'runningCount', partitions });

let dir: string;
let storeDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-changed-job-'));
  storeDir = join(dir, 'store');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A job counting the records of each batch of `source`, named `name`. */
const countedJob = (name: string, source: Record<string, unknown>): JobSource => ({
  kind: 'document',
  baseDir: '.',
  document: {
    name,
    batchIntervalMs: 1000,
    sources: { lines: source },
    streams: { counted: { from: 'lines', ops: [{ op: 'count' }] } },
    outputs: [{ stream: 'counted', type: 'collectBatches' }],
  },
});

/** A job collecting the lines of the files that appear in `directory`, relative to the test's folder. */
const folderLinesJob = (name: string, directory: string): JobSource => ({
  kind: 'document',
  baseDir: dir,
  document: {
    name,
    batchIntervalMs: 1000,
    sources: { lines: { type: 'textFileStream', directory } },
    outputs: [{ stream: 'lines', type: 'collectBatches' }],
  },
});

const run = (source: JobSource, batches: number) =>
  runBatches(source, batches, { storeDir, outputDir: join(dir, 'out') });

describe('a job document changed between runs on one store', () => {
  for (const [what, before, after, message] of [
    [
      'updateStateByKey partitions 3 to 2',
      counting(3),
      counting(2),
      'whose streams.counts.ops[0] (updateStateByKey) has 3 partitions, where the job now gives it 2 partitions',
    ],
    [
      'updateStateByKey partitions 2 to 3',
      counting(2),
      counting(3),
      'whose streams.counts.ops[0] (updateStateByKey) has 2 partitions, where the job now gives it 3 partitions',
    ],
    [
      'mapWithState partitions 3 to 2',
      mapping(3),
      mapping(2),
      'has 3 partitions, where the job now gives it 2 partitions',
    ],
    [
      'an incremental window of 3 s made 5 s',
      windowOf(3000),
      windowOf(5000),
      'whose streams.counts.ops[0] (reduceByKeyAndWindow) has a window of 3000 ms in 2 partitions, where the job now gives it a window of 5000 ms in 2 partitions',
    ],
  ] as const) {
    it(`refuses to resume a state checkpointed under other settings: ${what}`, async () => {
      // given a store whose checkpoint holds 3 batches of the state (a state checkpoint at 2000)
      const first = await run(job(before), 3);
      expect(first.error).toBeUndefined();
      // when the job resumes with the state's settings changed
      const resumed = run(job(after), 5);
      // then it is refused, naming the op, both settings and the way out, before any batch runs
      await expect(resumed).rejects.toThrow(CheckpointMismatchError);
      await expect(resumed).rejects.toThrow(message);
      await expect(resumed).rejects.toThrow(
        /cannot carry over \(set them back to resume\); run with --fresh/,
      );
    });
  }

  describe('a rate cap lifted on a restart', () => {
    const counted = (source: Record<string, unknown>) => countedJob('lifted-cap', source);
    const queue = { type: 'queue', batches: [['a', 'b'], ['c'], ['d'], ['e']] };
    const refusal = 'whose sources.lines (queue) took its records under a rate cap';
    const metadata = () => join(storeDir, 'checkpoint', 'metadata.json');

    it('resumes a queue whose cap held nothing back, by batch time, and a cap set again starts afresh', async () => {
      // given a queue capped at 10 records a second, more than any of its batches holds, run for 2 batches
      expect((await run(counted({ ...queue, maxRatePerSec: 10 }), 2)).error).toBeUndefined();
      // when the job resumes without the cap, then it goes on by batch time, where it was refused as if the cap had
      // held records back
      const uncapped = await run(counted(queue), 3);
      expect(uncapped.error).toBeUndefined();
      expect(uncapped.recordsOf('counted')).toEqual([[1]]);
      // and a cap set again on the next restart starts from the records that arrived before its first batch (e),
      // not from the position of the first run, which handed d out a second time
      const recapped = await run(counted({ ...queue, maxRatePerSec: 10 }), 4);
      expect(recapped.error).toBeUndefined();
      expect(recapped.recordsOf('counted')).toEqual([[1]]);
    });

    it('resumes a generator whose cap held nothing back', async () => {
      const generator = { type: 'generator', kind: 'lines', ratePerSec: 2 };
      // given a generator of 2 records a second capped at 5, run for 2 batches
      expect((await run(counted({ ...generator, maxRatePerSec: 5 }), 2)).error).toBeUndefined();
      // when it resumes without the cap, then batch 3 takes the 2 records of its second
      const uncapped = await run(counted(generator), 3);
      expect(uncapped.error).toBeUndefined();
      expect(uncapped.recordsOf('counted')).toEqual([[2]]);
    });

    it('refuses a queue whose cap held records back, and one whose checkpoint does not say', async () => {
      // given a queue capped at 1 record a second, which held b and later c back
      expect((await run(counted({ ...queue, maxRatePerSec: 1 }), 2)).error).toBeUndefined();
      const checkpoint = JSON.parse(await readFile(metadata(), 'utf8'));
      expect(Object.values(checkpoint.sources)).toEqual([{ taken: 2, arrived: 3 }]);
      // when it resumes without the cap, then it is refused: c would be skipped
      await expect(run(counted(queue), 3)).rejects.toThrow(refusal);
      // and so is a checkpoint written before sources recorded what had arrived, which cannot tell
      await rm(storeDir, { recursive: true });
      expect((await run(counted({ ...queue, maxRatePerSec: 10 }), 2)).error).toBeUndefined();
      const old = JSON.parse(await readFile(metadata(), 'utf8'));
      old.sources = Object.fromEntries(
        Object.entries(old.sources as Record<string, { taken: number }>).map(([id, p]) => [
          id,
          { taken: p.taken },
        ]),
      );
      await writeFile(metadata(), JSON.stringify(old));
      await expect(run(counted(queue), 3)).rejects.toThrow(refusal);
      // which still resumes with its cap
      const capped = await run(counted({ ...queue, maxRatePerSec: 10 }), 3);
      expect(capped.error).toBeUndefined();
      expect(capped.recordsOf('counted')).toEqual([[1]]);
    });
  });

  it('refuses a source whose position the checkpoint keeps made one of another kind, and takes one without', async () => {
    const counted = (source: Record<string, unknown>) => countedJob('changed-source', source);
    const queue = { type: 'queue', batches: [['a', 'b'], ['c']] };
    const generator = { type: 'generator', kind: 'lines', ratePerSec: 2 };
    // given a queue source capped to a record a second, whose position (records taken) the checkpoint keeps
    expect((await run(counted({ ...queue, maxRatePerSec: 1 }), 2)).error).toBeUndefined();
    // when the job resumes with a generator in its place, then it is refused, naming the source and both kinds,
    // where the generator failed every batch on the queue's position
    const swapped = run(counted(generator), 3);
    await expect(swapped).rejects.toThrow(
      'whose sources.lines (generator) was a queue source, where the job now makes it a generator source: the checkpoint keeps how far the old source was read',
    );
    // and a capped queue may not lose its cap, which took b and c by time and skipped them
    const uncapped = run(counted(queue), 3);
    await expect(uncapped).rejects.toThrow(
      'whose sources.lines (queue) took its records under a rate cap (maxRatePerSec, or backpressure), where the job now takes them by batch time without one',
    );
    // and a queue without a cap, which takes its batches by time and keeps no position, may become a generator
    await rm(storeDir, { recursive: true });
    expect((await run(counted(queue), 2)).error).toBeUndefined();
    const resumed = await run(counted(generator), 3);
    expect(resumed.error).toBeUndefined();
    expect(resumed.recordsOf('counted')).toEqual([[2]]);
  });

  it('refuses a graph of another shape naming what differs, such as an output added', async () => {
    // given a job stopped after 2 batches
    const base = job(counting(2)) as JobSource & { kind: 'document' }; // job() makes a document
    expect((await run(base, 2)).error).toBeUndefined();
    const document = base.document as { outputs: unknown[] };
    // when it resumes with a print output added
    const outputs = [...document.outputs, { stream: 'pairs', type: 'print' }];
    const added = run({ ...base, document: { ...document, outputs } }, 3);
    // then the refusal counts both graphs and names the new output, where it said "another shape" alone
    await expect(added).rejects.toThrow(
      "whose stream graph has another shape (the job now has 5 streams and outputs, where the checkpoint's graph has 4; outputs[1] (print), an output, is new",
    );
  });

  it('refuses a generator made at another rate under an incremental window, which it left short for good', async () => {
    const counted = (ratePerSec: number, ops: unknown[], more: Record<string, unknown> = {}): JobSource => ({
      kind: 'document',
      baseDir: '.',
      document: {
        name: 'changed-generator',
        batchIntervalMs: 1000,
        sources: { lines: { type: 'generator', kind: 'lines', ratePerSec, ...more } },
        streams: { counted: { from: 'lines', ops } },
        outputs: [{ stream: 'counted', type: 'collectBatches' }],
      },
    });
    const windowed = [{ op: 'countByWindow', windowMs: 3000, slideMs: 1000 }];
    // given a window of 3 batches counted incrementally over a generator of 2 records a second
    expect((await run(counted(2, windowed), 4)).error).toBeUndefined();
    // when the job resumes with the generator at 3 a second, then it is refused, naming the source, the setting
    // changed (only it, not the generator's others) and the window, where the window subtracted each old batch made again at 3 records and counted 6 for good
    const faster = run(counted(3, windowed), 8);
    await expect(faster).rejects.toThrow(CheckpointMismatchError);
    await expect(faster).rejects.toThrow(
      /whose sources\.lines \(generator\) made its batches with ratePerSec 2, where the job now gives ratePerSec 3: streams\.counted\.ops\[0\] \(countByWindow\) carries batches made under the old settings/,
    );
    // and back at 2 a second it resumes
    expect((await run(counted(2, windowed), 5)).error).toBeUndefined();
    // and a setting a lines generator never reads (users and hashtags, of tweets) changes none of its records, so it
    // resumes, where it was refused as if the records had changed
    expect((await run(counted(2, windowed, { users: 7, hashtags: 3 }), 6)).error).toBeUndefined();
    // and a job that carries no batch across the restart takes the new rate
    await rm(storeDir, { recursive: true });
    expect((await run(counted(2, [{ op: 'count' }]), 2)).error).toBeUndefined();
    const resumed = await run(counted(3, [{ op: 'count' }]), 3);
    expect(resumed.recordsOf('counted')).toEqual([[3]]);
  });

  it("refuses a store that holds another job's checkpoint, of the same shape", async () => {
    // given the checkpoint of a job named "changed"
    expect((await run(job(counting(2)), 3)).error).toBeUndefined();
    // when a job of another name and the same shape runs on its store (a --store given by mistake)
    const resumed = run(job(counting(2), 'other'), 5);
    // then it is refused, naming both jobs, where it went on with the other job's counts as its own
    await expect(resumed).rejects.toThrow(CheckpointMismatchError);
    await expect(resumed).rejects.toThrow(
      `holds a checkpoint of job "changed" while this run is of job "other": its state and source positions are that job's; give this run its own --store`,
    );
  });

  it('resumes a state whose function changed, its counts carried over', async () => {
    // given 3 batches counted
    expect((await run(job(counting(3)), 3)).error).toBeUndefined();
    // when the same state resumes with another function, of the same settings
    const resumed = await run(job({ ...counting(3), fn: 'sumState' }), 5);
    // then batches 4 and 5 go on from the counts of batch 3
    expect(resumed.error).toBeUndefined();
    const last = resumed.recordsOf('counts').at(-1) as [string, number][];
    expect(last.sort()).toEqual(KEYS.map((key) => [key, 5]));
  });

  it('refuses a folder source pointed at another folder, whose same-named files it skipped unread', async () => {
    const folderJob = (directory: string) => folderLinesJob('moved-folder', directory);
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    // given a run on folder a whose second batch read x.txt, dropped there once the first batch completed
    const drop = {
      onBatchCompleted: ({ batchTime }: { batchTime: number }) => {
        if (batchTime === 1000) writeFileSync(join(dir, 'a', 'x.txt'), 'from a\n');
      },
    };
    const first = await runBatches(folderJob('a'), 2, {
      storeDir,
      outputDir: join(dir, 'out'),
      listeners: [drop],
    });
    expect(first.error).toBeUndefined();
    expect(first.recordsOf('lines')).toEqual([[], ['from a']]);
    // when the job resumes on folder b, which holds an x.txt of its own
    await writeFile(join(dir, 'b', 'x.txt'), 'from b\n');
    const moved = run(folderJob('b'), 3);
    // then it is refused, naming both folders, where it read on and skipped b's x.txt for a's
    await expect(moved).rejects.toThrow(CheckpointMismatchError);
    await expect(moved).rejects.toThrow(
      `whose sources.lines (textFileStream) was a textFileStream source reading ${join(dir, 'a')}, where the job now makes it a textFileStream source reading ${join(dir, 'b')}: the checkpoint keeps how far the old source was read`,
    );
    // and on folder a it resumes
    const resumed = await run(folderJob('a'), 3);
    expect(resumed.error).toBeUndefined();
  });

  it('resumes a checkpoint written before sources recorded where they read', async () => {
    // given a folder job's checkpoint that names the source by its kind alone, as older checkpoints did
    const folderJob: JobSource = {
      kind: 'document',
      baseDir: dir,
      document: {
        name: 'old-checkpoint',
        batchIntervalMs: 1000,
        sources: { lines: { type: 'textFileStream', directory: 'a' } },
        outputs: [{ stream: 'lines', type: 'collectBatches' }],
      },
    };
    await mkdir(join(dir, 'a'));
    expect((await run(folderJob, 2)).error).toBeUndefined();
    const file = join(storeDir, 'checkpoint', 'metadata.json');
    const checkpoint = JSON.parse(await readFile(file, 'utf8'));
    checkpoint.resumeSettings = Object.fromEntries(
      Object.entries(checkpoint.resumeSettings as Record<string, string>).map(([id, s]) => [
        id,
        s.split(' reading ')[0],
      ]),
    );
    await writeFile(file, JSON.stringify(checkpoint));
    // when the job resumes, then it goes on from batch 3
    const resumed = await run(folderJob, 3);
    expect(resumed.error).toBeUndefined();
    expect(resumed.batches.map((b) => b.batchTime)).toEqual([3000]);
  });

  it('reads a checkpoint that names a folder source a textFile source, as older ones did', async () => {
    // given a folder job's checkpoint in the words older checkpoints stored: `textFile` is a static dataset's
    // type, so the folder source now names itself textFileStream, as the job does
    const folderJob = (directory: string) => folderLinesJob('old-words', directory);
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    expect((await run(folderJob('a'), 2)).error).toBeUndefined();
    const file = join(storeDir, 'checkpoint', 'metadata.json');
    const checkpoint = JSON.parse(await readFile(file, 'utf8'));
    const settings = checkpoint.resumeSettings as Record<string, string>;
    expect(Object.values(settings)).toEqual([`a textFileStream source reading ${join(dir, 'a')}`]);
    checkpoint.resumeSettings = Object.fromEntries(
      Object.entries(settings).map(([id, s]) => [
        id,
        s.replace('a textFileStream source', 'a textFile source'),
      ]),
    );
    await writeFile(file, JSON.stringify(checkpoint));
    // when the job resumes on another folder, then it is refused in today's words
    await expect(run(folderJob('b'), 3)).rejects.toThrow(
      `whose sources.lines (textFileStream) was a textFileStream source reading ${join(dir, 'a')}, where the job now makes it a textFileStream source reading ${join(dir, 'b')}`,
    );
    // and on its own folder it goes on from batch 3
    const resumed = await run(folderJob('a'), 3);
    expect(resumed.error).toBeUndefined();
    expect(resumed.batches.map((b) => b.batchTime)).toEqual([3000]);
  });
});
