import { describe, expect, it } from 'vitest';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

// Spark's ShuffledRDD carries its partitioner, so a by-key result is read in place by the next by-key op with as
// many partitions. Counting a batch's stages shows whether a second shuffle ran.
describe('a by-key result keeps its partitioner', () => {
  // The 2 s windows of the four batches ['a', 'b'], ['a'], ['b', 'b'], ['c'], each sorted.
  const windows = [
    [
      ['a', 1],
      ['b', 1],
    ],
    [
      ['a', 2],
      ['b', 1],
    ],
    [
      ['a', 1],
      ['b', 2],
    ],
    [
      ['b', 2],
      ['c', 1],
    ],
  ];
  it('a join of two reduceByKey results shuffles only for the reductions', async () => {
    // given two reduceByKey results over 2 partitions, joined over 2 partitions
    // when the batch runs
    const result = await runBatches(job('joinOfReducedResults'), 1);
    // then it has the two reductions' map stages and one stage that reduces and joins: no shuffle for the join
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('joined')).toEqual([
      [
        ['a', [4, 3]],
        ['b', [2, 2]],
      ],
    ]);
    expect(result.batches[0]!.stages).toBe(3);
  });

  for (const workers of [0, 2]) {
    it(`an incremental window reads each batch's reduced counts in place (${workers} workers)`, async () => {
      // given an incremental reduceByKeyAndWindow over 2 s sliding every 1 s, 2 partitions
      // when four batches run
      const result = await runBatches(job('incrementalWindowCount'), 4, { workers });
      // then the windows are right, and each batch has two stages: the new batch's map side, and one stage that
      // reduces it and merges it with the window (Spark's narrow cogroup), not a second shuffle of the window
      expect(result.error).toBeUndefined();
      const sorted = result.recordsOf('window').map((batch) => [...batch].sort());
      expect(sorted).toEqual(windows);
      expect(result.batches.map((b) => b.stages)).toEqual([2, 2, 2, 2]);
    });
  }

  for (const exportName of ['recomputedWindowCount', 'groupedWindow']) {
    for (const workers of [0, 2]) {
      it(`a window recomputed every batch combines its reduced batches in place: ${exportName} (${workers} workers)`, async () => {
        // given reduceByKeyAndWindow without an inverse (or groupByKeyAndWindow), 2 s sliding every 1 s, 2 partitions
        // when four batches run
        const result = await runBatches(job(exportName), 4, { workers });
        // then the windows are right, and each batch shuffles only its own records: the window's batches, placed by
        // the same partitioner, are combined where they are (Spark's combineByKey in place), not shuffled again
        expect(result.error).toBeUndefined();
        expect(result.recordsOf('window').map((batch) => [...batch].sort())).toEqual(windows);
        expect(result.batches.map((b) => b.stages)).toEqual([2, 2, 2, 2]);
      });
    }
  }

  it('a function that throws in an in-place combine dead-letters the value and keeps the key', async () => {
    // given a window reduce that refuses a sum over 2, and batches bringing a twice, then once
    // when both batches run
    const result = await runBatches(job('windowReduceRefuses'), 2);
    // then the second window keeps the first batch's 2 and dead-letters the value it could not add, naming the op
    expect(result.error).toBeUndefined();
    expect(result.recordsOf('window')).toEqual([[['a', 2]], [['a', 2]]]);
    expect(result.deadLetters.map((d) => d.record)).toEqual([['a', 1]]);
    expect(result.deadLetters[0]!.error).toMatch(/1 \+ 2 is over 2|2 \+ 1 is over 2/);
    expect(result.deadLetters[0]!.op).toMatch(/^test\/helpers\/runtimeJobs\.ts:\d+ \(reduce/);
  });
});
