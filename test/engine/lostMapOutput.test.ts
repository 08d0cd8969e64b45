import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../lib/dataset/TaskContext';
import { FetchFailedError } from '../../lib/errors';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { type Losing, losingRunner } from '../helpers/losingRunner';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-lost-map-output-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three batches of words in 3 partitions; `bad` is no pair, so the reduceByKey's map side dead-letters it. */
const input = [
  ['a', 'b', 'a', 'bad', 'c', 'a', 'd', 'b'],
  ['c', 'c', 'bad', 'e', 'a', 'f'],
  ['b', 'g', 'h', 'a', 'bad', 'bad'],
];

/**
 * Counts words per batch with every map output in the store (none inline), directly or through a combining
 * shuffle's merge stage, and deletes the outputs whose key `picks` chooses as their readers start (see
 * `losingRunner`). Returns each batch's sorted counts, the dead letters, the deletions and the run's error.
 */
async function wordCounts(combine: 'never' | 'always', picks: (key: string) => boolean, losing: Losing) {
  const ssc = new StreamingContext({ batchIntervalMs: 1000, shuffle: { combine, inlineMaxBytes: 0 } });
  ssc
    .queueStream(input, { partitions: 3 })
    // `bad` stays no pair on purpose (the cast): the reduceByKey's map side dead-letters it.
    .map((w: string) => (w === 'bad' ? w : [w, 1]) as [string, number])
    .reduceByKey((a: number, b: number) => a + b, 3)
    .collectBatches('out');
  const storeDir = join(dir, `${combine}-${losing}-${Math.random().toString(36).slice(2)}`);
  const store = new LocalFolderStore(storeDir);
  let runner: ReturnType<typeof losingRunner> | undefined;
  connectInProcess(ssc, store, storeDir, {
    wrapRunner: (inner) => {
      runner = losingRunner(inner, (key) => rm(join(storeDir, key), { force: true }), picks, losing);
      return runner;
    },
  });
  const outputs: string[][] = [];
  const letters: DeadLetter[] = [];
  ssc.addListener({
    onOutput: (e) => outputs.push(e.records.map((r) => JSON.stringify(r)).sort()),
    onDeadLetters: (l) => letters.push(...l),
  });
  const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'lost' }).run({ batches: 3 });
  const { lost, ran } = runner!;
  return { outputs, letters: letters.map((l) => [l.batchTime, l.record]), lost, ran, summary };
}

const none = () => false;
/** Map partition 1's output of every batch's shuffle. */
const mapOutput1 = (key: string) => /^shuffle\/\d+\/([^/]+-)?\d+\/1$/.test(key);
/** Merge group 0's output of every batch's shuffle. */
const merged0 = (key: string) => /\/merged-0$/.test(key);

describe('a map output lost between the map and the reduce stage', () => {
  for (const [combine, picks, what] of [
    ['never', mapOutput1, 'a reduce task'],
    ['always', mapOutput1, 'a merge task'],
    ['always', merged0, 'a reduce task reading a merged output'],
  ] as const) {
    it(`is recomputed when ${what} finds it missing, and the batch completes as without the loss (combine: ${combine})`, async () => {
      // given a word count whose stored map output is deleted as the first task reading it starts
      const whole = await wordCounts(combine, none, 'once');
      // when it runs
      const lossy = await wordCounts(combine, picks, 'once');
      // then every batch lost an output, recomputed it, and gave the same counts and each dead letter once
      expect(whole.summary.error).toBeUndefined();
      expect(lossy.lost.length).toBeGreaterThan(0);
      expect(lossy.summary.error).toBeUndefined();
      expect(lossy.outputs).toEqual(whole.outputs);
      expect(lossy.letters).toEqual(whole.letters);
      expect(whole.letters).toHaveLength(4);
    });
  }

  it('are recomputed together when several are lost, the reading stage running once more', async () => {
    // given a word count whose stored map outputs are all deleted as the first task reading each starts
    const whole = await wordCounts('never', none, 'once');
    // when it runs
    const lossy = await wordCounts('never', (key) => /\/\d+$/.test(key), 'once');
    // then each batch recomputed its lost map outputs (those it stored) in one go, and ran its reduce stage twice,
    // not once per lost output
    expect(lossy.summary.error).toBeUndefined();
    expect(lossy.outputs).toEqual(whole.outputs);
    expect(lossy.letters).toEqual(whole.letters);
    const runs = (ran: string[], stageId: number) => ran.filter((t) => t.startsWith(`${stageId}/`)).length;
    expect(lossy.lost.length).toBeGreaterThan(6);
    expect(runs(lossy.ran, 0)).toBe(runs(whole.ran, 0) + lossy.lost.length);
    expect(runs(lossy.ran, 1)).toBe(2 * runs(whole.ran, 1));
  });

  it('that is lost again every time fails the batch after 4 attempts of the stage, naming the output', async () => {
    // given a word count whose map output 1 is deleted every time a task is about to read it
    // when it runs
    const { summary, ran, outputs } = await wordCounts('never', mapOutput1, 'always');
    // then the first batch fails naming the shuffle, the map partition and the key, and no batch gave output
    expect(outputs).toEqual([]);
    expect(summary.error?.message).toMatch(
      /^map output shuffle\/1000\/([^/]+-)?0\/1 of shuffle 0 \(map partition 1\) is missing from the store: stage 1 found it missing in 4 attempts/,
    );
    // and its reduce stage (stage 1) ran 4 times, after map task 1 (of stage 0) was recomputed 3 times, alone
    const runs = (task: string) => ran.filter((t) => t === task).length;
    expect([runs('0/0'), runs('0/1'), runs('0/2')]).toEqual([1, 4, 1]);
    expect([runs('1/0'), runs('1/1'), runs('1/2')]).toEqual([4, 4, 4]);
  });

  it('that is lost again every time fails a job with FetchFailedError, naming the output', async () => {
    // given a static dataset's reduceByKey whose map output 1 is deleted every time a task is about to read it
    const ssc = new StreamingContext({ batchIntervalMs: 1000, shuffle: { inlineMaxBytes: 0 } });
    const store = new LocalFolderStore(dir);
    connectInProcess(ssc, store, dir, {
      wrapRunner: (inner) =>
        losingRunner(inner, (key) => rm(join(dir, key), { force: true }), mapOutput1, 'always'),
    });
    const counts = ssc
      .parallelize(input[0]!, 3)
      .map((w: string) => [w, 1] as [string, number])
      .reduceByKey((a: number, b: number) => a + b, 3);
    // when it is collected
    const error = await counts.collect().catch((e: unknown) => e);
    // then the job fails with the typed error, which names what was lost
    expect(error).toBeInstanceOf(FetchFailedError);
    expect(error).toMatchObject({ shuffleId: 0, mapPartition: 1, attempts: 4 });
    expect((error as FetchFailedError).key).toMatch(/^shuffle\/0\/([^/]+-)?0\/1$/);
  });
});
