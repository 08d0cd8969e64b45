import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knownEmptyResult } from '../../lib/executor/knownEmptyResult';
import { contextFromModule } from '../../lib/job/JobModule';
import { runBatches } from '../../lib/local/LocalRuntime';
import type { TaskPlan, TaskResult } from '../../lib/plan/Plan';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import { emptyMapStatus, writeShuffle } from '../../lib/shuffle/ShuffleWriter';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';
import { SPARSE_INPUT, sparse } from '../helpers/emptyTaskJobs';

const jobsModule = new URL('../helpers/emptyTaskJobs.ts', import.meta.url).pathname;

/**
 * A result without its times, which a task answered without running cannot give as it ran: its duration, and its
 * storage time, which counts the bucketing of a map output too.
 */
function timeless(result: TaskResult): unknown {
  if (!result.ok) return result;
  const { durationMs: _, storageMs: __, ...metrics } = result.metrics;
  return { ...result, metrics };
}

/** The dataset kinds and action of a task's stage, for a failure message and the kinds that must run. */
function kindsOf(task: TaskPlan): string {
  const action = task.stage.shuffleWrite ? 'shuffleWrite' : (task.action?.type ?? 'collect');
  return `${task.stage.datasets.map((d) => (d.type === 'mapPartitions' ? d.args.kind : d.type)).join(' → ')} → ${action}`;
}

describe('a task whose partitions are empty by its plan', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-empty-tasks-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is answered as running it answers, and only when nothing on it runs on no input', async () => {
    // given a job over input whose partitions are mostly empty, run in this thread, every task and its result kept
    const ran: { task: TaskPlan; result: TaskResult }[] = [];
    const ssc = contextFromModule(sparse);
    const store = new LocalFolderStore(join(dir, 'store'), { fsync: false });
    connectInProcess(ssc, store, dir, {
      wrapRunner: (inner): TaskRunner => ({
        name: inner.name,
        parallelism: inner.parallelism,
        run: async (task, control) => {
          const result = await inner.run(task, control);
          ran.push({ task: structuredClone(task), result });
          return result;
        },
        close: () => inner.close(),
      }),
    });
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'empty-tasks' }).run({
      batches: SPARSE_INPUT.length,
    });
    expect(summary.error).toBeUndefined();
    // when each task's result is asked of its plan alone
    const answered = ran.map(({ task, result }) => ({ task, result, known: knownEmptyResult(task) }));
    // then every answer is the result running the task gave
    for (const { task, result, known } of answered) {
      if (known)
        expect(timeless(known), `task ${task.partition} of ${kindsOf(task)}`).toEqual(timeless(result));
    }
    // and many tasks are answered: both sides of a shuffle, map, filter, union, coalesce, the map side of count
    const knownKinds = new Set(answered.filter((a) => a.known).map((a) => kindsOf(a.task)));
    expect(answered.filter((a) => a.known).length).toBeGreaterThan(answered.length / 3);
    expect([...knownKinds].sort()).toEqual([
      'block → flatMap → map → shuffleWrite',
      'block → flatMap → map → shuffled → union → coalesced → shuffleWrite',
      'parallel → block → flatMap → map → map → union → shuffleWrite',
      'shuffled → collect',
      'shuffled → filter → collect',
    ]);
    // and none whose partition would run something on no input: state, a partition function, glom, a text file
    const mustRun = /mapWithState|cogroup|stored|cached|mapPartitions → |glom|saveText/;
    const mustRunKinds = [...knownKinds].filter((k) => mustRun.test(k));
    expect(mustRunKinds).toEqual([]);
    expect(answered.some((a) => mustRun.test(kindsOf(a.task)))).toBe(true);
  });

  it('gives the map status writeShuffle gives for no record, for every kind of shuffle', async () => {
    // given a store, and shuffles that combine, group and repartition
    const store = new LocalFolderStore(join(dir, 'store'), { fsync: false });
    const partitioner = { type: 'hash', numPartitions: 5 } as const;
    const specs = [
      {
        shuffleId: 1,
        partitioner,
        keyed: true,
        mapSideCombine: true,
        aggregator: { createCombiner: 'id', mergeValue: 'sum', mergeCombiners: 'sum' },
      },
      { shuffleId: 2, partitioner, keyed: true, mapSideCombine: false, keySpace: 'd1' },
      { shuffleId: 3, partitioner, keyed: false, mapSideCombine: false },
    ];
    for (const spec of specs) {
      for (const speculative of [false, true]) {
        // when a map task with no record writes its output
        const written = await writeShuffle(
          spec as never,
          { records: [] },
          2,
          7000,
          store,
          () => () => {
            throw new Error('no function runs on no record');
          },
          () => {},
          64 * 1024,
          speculative,
        );
        // then its status is the empty one, and nothing was written
        expect(emptyMapStatus(spec as never, 2, 7000, speculative)).toEqual(written.status);
        expect(written.requests).toBe(0);
      }
    }
    expect(await store.list('')).toEqual([]);
  });

  it('leaves outputs, state timeouts and dead letters on worker threads as in this thread', async () => {
    // given the job over mostly empty partitions
    const job = { kind: 'module', path: jobsModule, exportName: 'sparse' } as const;
    // when it runs in this thread and on 2 worker threads, which answer the tasks known empty without sending them
    const inProcess = await runBatches(job, SPARSE_INPUT.length, { workers: 0 });
    const onThreads = await runBatches(job, SPARSE_INPUT.length, { workers: 2 });
    // then every output batch, every dead letter and every batch's records are the same
    expect(inProcess.error).toBeUndefined();
    expect(onThreads.error).toBeUndefined();
    const byOutput = (r: typeof inProcess) =>
      r.outputs.map((o) => [
        o.output,
        o.batchTime,
        o.count,
        [...o.records].map((x) => JSON.stringify(x)).sort(),
      ]);
    expect(byOutput(onThreads)).toEqual(byOutput(inProcess));
    const letters = (r: typeof inProcess) => r.deadLetters.map((l) => [l.batchTime, l.record, l.error]);
    expect(letters(onThreads)).toEqual(letters(inProcess));
    expect(letters(onThreads)).toEqual([[1000, 'a b bad', 'Error: a bad word']]);
    // and the state timed out, the partition function and glom ran on empty partitions, as Spark's do
    expect(onThreads.recordsOf('timeouts').flat()).toEqual([
      ['timeout', 'b', 1, 4000],
      ['timeout', 'a', 1, 6000],
    ]);
    expect(onThreads.recordsOf('partitionSizes')[1]).toEqual([0, 0, 0, 0]);
    expect(onThreads.recordsOf('glom')[1]).toEqual([0, 0, 0, 0]);
    expect(onThreads.batches.map((b) => b.records)).toEqual(inProcess.batches.map((b) => b.records));
  });
});
