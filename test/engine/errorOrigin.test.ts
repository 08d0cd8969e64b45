import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';
import { failingJob, fixturesDir } from '../job/fixtures/jobs';

const document = (doc: Record<string, unknown>) =>
  ({ kind: 'document', document: doc, baseDir: fixturesDir }) as const;
const runtimeJobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const failingTransformJob = new URL('../fixtures/failingTransformJob.ts', import.meta.url).pathname;

describe('a failed batch names the op that failed', () => {
  it('in a job document: the JSON path and the op', async () => {
    // given a job whose streams.counts.ops[3], a mapPartitions, throws after a reduceByKey
    // when its batch runs on the local runtime
    const result = await runBatches(document(failingJob('failing-op')), 1);
    // then the run's error and the batch's metrics name the op, then the task and the cause
    const expected =
      /^streams\.counts\.ops\[3\] \(mapPartitions\): task \d+ of stage \d+ failed 2 time\(s\); last error: Error: the partition exploded$/;
    expect(result.error?.message).toMatch(expected);
    expect(result.batches[0]?.error).toMatch(expected);
  });

  it('in a job document: the innermost failing dataset, here a static file', async () => {
    // given a job that joins a static dataset whose file does not exist, before the failing op
    // when its batch runs
    const result = await runBatches(document(failingJob('failing-lookup', 'lookup')), 1);
    // then it is the dataset's definition that is named, not the op that read it
    expect(result.batches[0]?.error).toMatch(
      /^datasets\.lookup \(textFile\): task 0 of stage \d+ failed 2 time\(s\); last error: Error: ENOENT/,
    );
  });

  it('in a job document: an op that failed in the driver', async () => {
    // given a job whose streams.counts.ops[2], a transform, throws where transform functions run
    // when its batch runs
    const result = await runBatches(document(failingJob('failing-transform', 'transform')), 1);
    // then the batch's error names that op before the function's message
    expect(result.batches[0]?.error).toBe('streams.counts.ops[2] (transform): no dataset today');
  });

  it('in a TypeScript job: the source line that called the op', async () => {
    // given the job module whose mapPartitions always throws (test/helpers/runtimeJobs.ts)
    // when its batch runs, in process and on worker threads
    for (const workers of [0, 2]) {
      const result = await runBatches({ kind: 'module', path: runtimeJobs, exportName: 'alwaysFails' }, 1, {
        workers,
      });
      // then the error names the file and line of the mapPartitions call
      expect(result.batches[0]?.error).toMatch(
        /^test\/helpers\/runtimeJobs\.ts:\d+ \(mapPartitions\): task 0 of stage \d+ failed 2 time\(s\); last error: Error: broken partition$/,
      );
    }
  });

  it('in a TypeScript job: the source line of an op that failed in the driver', async () => {
    // given a job module whose transform function throws (test/fixtures/failingTransformJob.ts)
    // when its batch runs
    const result = await runBatches({ kind: 'module', path: failingTransformJob }, 1, { workers: 0 });
    // then the error names the file and line of the transform call
    expect(result.batches[0]?.error).toMatch(
      /^test\/fixtures\/failingTransformJob\.ts:\d+ \(\w+\): no dataset today$/,
    );
  });
  it("in a TypeScript job: the foreachRDD's line, for a dataset its function made", async () => {
    // given a foreachRDD whose function maps its dataset and hands it to a sink, which fails or takes it
    // when its batch runs, in process and on worker threads
    for (const workers of [0, 2]) {
      const module = (exportName: string) => ({ kind: 'module', path: runtimeJobs, exportName }) as const;
      const failed = await runBatches(module('failingSink'), 1, { workers });
      const done = await runBatches(module('sinkWithBadLine'), 1, { workers });
      // then the failed batch's error, and the letter of the line that is no number, name the foreachRDD's line
      const foreachRdd = String.raw`test/helpers/runtimeJobs\.ts:\d+ \(foreachRDD\(queue\(1 batches\)\)\)`;
      expect(failed.batches[0]?.error).toMatch(
        new RegExp(
          `^${foreachRdd}: task 0 of stage \\d+ failed 2 time\\(s\\); last error: Error: the sink is down$`,
        ),
      );
      expect(done.deadLetters.map((l) => [l.record, l.op])).toEqual([
        ['x', expect.stringMatching(new RegExp(`^${foreachRdd}$`))],
      ]);
    }
  });
});
