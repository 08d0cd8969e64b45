import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../../lib/dataset/Dataset';
import type { TaskPlan, TaskResult } from '../../lib/plan/Plan';
import { StreamingContext } from '../../lib/StreamingContext';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { TaskControl, TaskRunner } from '../../lib/scheduler/TaskRunner';
import { LocalFolderStore } from '../../lib/storage/LocalFolderStore';
import { connectInProcess } from '../helpers/connectInProcess';

/**
 * The numeric actions reduce each partition in its task, and on Lambda a task's result reaches the coordinator as
 * JSON, which writes Infinity and NaN as null. A partition's sum that overflows, or a counter whose squares do, is
 * Spark's answer (Infinity) in local mode, and must be the same there.
 */
describe('sum and stats of numbers that overflow in a partition', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-numeric-json-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs one batch of sum and stats over three partitions, through `wrap`'s runner; returns what the body saw. */
  async function run(wrap?: (inner: TaskRunner) => TaskRunner): Promise<unknown[]> {
    const ssc = new StreamingContext({ batchIntervalMs: 1000 });
    const seen: unknown[] = [];
    ssc.queueStream([[1e308, 1e308, 1, 2, 1e308, -1e308]], { partitions: 3 }).foreachRDD(async (ds) => {
      const numbers = ds as Dataset<number>;
      const stats = await numbers.stats();
      seen.push(await numbers.sum(), stats.count, stats.mean, stats.variance, stats.max, stats.min);
    });
    connectInProcess(ssc, new LocalFolderStore(join(dir, `store-${wrap ? 'json' : 'plain'}`)), dir, {
      ...(wrap ? { wrapRunner: wrap } : {}),
    });
    const summary = await new JobScheduler(ssc, new LogicalClock(), { name: 'numeric' }).run({ batches: 1 });
    expect(summary.error).toBeUndefined();
    return seen;
  }

  it('gives through JSON task results (Lambda) what it gives in process, as Spark does', async () => {
    // given partitions [1e308, 1e308] (a sum of Infinity), [1, 2] and [1e308, -1e308] (a counter whose mean overflows)
    // when the batch runs in process, and through a runner whose results cross JSON as a Lambda worker's answer does
    const plain = await run();
    const asJson = await run(jsonResults);
    // then both give Spark's answers (an infinite sum, an undefined mean), not what the nulls JSON made of them give
    expect(plain[0]).toBe(Number.POSITIVE_INFINITY);
    expect(plain[2]).toBeNaN();
    expect(asJson).toEqual(plain);
  });
});

/** The runner with each task's result written and read as JSON, as `LambdaTaskRunner` reads a worker's answer. */
function jsonResults(inner: TaskRunner): TaskRunner {
  return {
    name: inner.name,
    parallelism: inner.parallelism,
    async run(task: TaskPlan, control?: TaskControl): Promise<TaskResult> {
      return JSON.parse(JSON.stringify(await inner.run(task, control))) as TaskResult;
    },
    close: () => inner.close(),
  };
}
