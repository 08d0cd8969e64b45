import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;

describe('the jobs of a batch’s outputs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('land under their own output, with their dead letters, and only foreachRDD runs in AsyncLocalStorage', async () => {
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
    // and the batch's AsyncLocalStorage ran only for the foreachRDD: once a batch for each of its two stores
    expect(run).toHaveBeenCalledTimes(4);
  });
});
