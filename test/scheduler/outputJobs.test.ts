import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;

describe('the jobs of a batch’s outputs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('land under their own output, with their dead letters, and none runs an AsyncLocalStorage', async () => {
    // given two built-in outputs run concurrently, and a foreachRDD acting on a static dataset joined with its batch
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    // when 2 batches run in the driver's thread
    const result = await runBatches({ kind: 'module', path: jobs, exportName: 'outputsOwnTheirJobs' }, 2, {
      workers: 0,
    });
    // then every output's answer is right
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('counts')).toEqual([[2], [1]]);
    expect(result.recordsOf('sums').map((b) => b.sort())).toEqual([
      [
        ['a', 1],
        ['b', 1],
      ],
      [['a', 1]],
    ]);
    expect(result.recordsOf('joined')).toEqual([[2], [1]]);
    // and each output's jobs are listed under it, the foreachRDD's join included, in the batch they ran for
    for (const batch of result.batches) {
      expect(batch.outputOps?.map((op) => op.name)).toEqual(['counts', 'sums', 'foreachRDD(map)']);
      expect(batch.outputOps?.map((op) => op.jobs.length)).toEqual([1, 1, 1]);
      expect(batch.jobs).toBe(3);
    }
    // and the line that is not JSON is one dead letter of batch 1 (one op parses it, for all three outputs)
    expect(result.deadLetters.map((l) => [l.batchTime, l.record])).toEqual([[1000, 'not json']]);
    // and no AsyncLocalStorage ran, not even for the foreachRDD: its job ran alone, so a plain slot held it
    expect(run).not.toHaveBeenCalled();
  });

  it('land under their own output when two foreachRDDs acting on static datasets run at once', async () => {
    // given two foreachRDDs whose jobs overlap, each counting a static dataset that knows no job
    const run = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    // when 2 batches run in the driver's thread
    const result = await runBatches({ kind: 'module', path: jobs, exportName: 'overlappingForeachRdds' }, 2, {
      workers: 0,
    });
    // then each counted its own dataset
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('small')).toEqual([[2], [2]]);
    expect(result.recordsOf('large')).toEqual([[5], [5]]);
    // and each count is listed under its own output, in the batch it ran for
    for (const batch of result.batches) {
      expect(batch.outputOps?.map((op) => op.name)).toEqual(['small', 'large']);
      expect(batch.outputOps?.map((op) => op.jobs.length)).toEqual([1, 1]);
    }
    // and only the job that started while the other ran was carried by an AsyncLocalStorage: one a batch
    expect(run).toHaveBeenCalledTimes(2);
  });
});
