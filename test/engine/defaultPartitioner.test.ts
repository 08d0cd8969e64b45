import { describe, expect, it } from 'vitest';
import { defaultPartitioner } from '../../lib/dataset/Partitioner';
import { runBatches } from '../../lib/local/LocalRuntime';

const jobs = new URL('../helpers/runtimeJobs.ts', import.meta.url).pathname;
const job = (exportName: string) => ({ kind: 'module', path: jobs, exportName }) as const;

const placed = (numPartitions: number) => ({
  numPartitions,
  partitioner: { type: 'hash', numPartitions } as const,
});
const unplaced = (numPartitions: number) => ({ numPartitions });

// Spark's Partitioner.defaultPartitioner, with spark.default.parallelism set (Sluice's defaultPartitions).
describe('defaultPartitioner', () => {
  it('hashes into the default partitions when no parent is placed by key', () => {
    expect(defaultPartitioner([unplaced(8), unplaced(3)], 2).numPartitions).toBe(2);
  });

  it("takes the placed parent's partitioner, the largest of them", () => {
    expect(defaultPartitioner([unplaced(3), placed(4)], 2).numPartitions).toBe(4);
    expect(defaultPartitioner([placed(3), placed(6), unplaced(2)], 2).numPartitions).toBe(6);
  });

  it('takes a placed parent smaller than the default while it is within ten times of the largest parent', () => {
    // log10(20) - log10(3) < 1: eligible, though 3 < 8
    expect(defaultPartitioner([placed(3), unplaced(20)], 8).numPartitions).toBe(3);
    // log10(40) - log10(3) > 1 and 3 < 8: the default
    expect(defaultPartitioner([placed(3), unplaced(40)], 8).numPartitions).toBe(8);
  });

  it('takes a placed parent of at least the default partitions, however small beside the largest parent', () => {
    expect(defaultPartitioner([placed(2), unplaced(100)], 2).numPartitions).toBe(2);
  });
});

const sizesOf = (batches: unknown[][]) => batches.map((b) => b.length);

describe('a by-key op in a body that names no partitioning follows its parents, as an RDD op in Spark', () => {
  for (const workers of [0, 2]) {
    it(`a join reads a result placed by 4 partitions in place, with defaultPartitions 2 (${workers} workers)`, async () => {
      // given a reduceByKey over 4 partitions joined, in a transform body, with the batch, naming no partitioning
      // when the batch runs
      const result = await runBatches(job('bodyJoinOfPlacedResult'), 1, { workers });
      // then the join takes the reduced side's partitioner (4 partitions), so it is not shuffled again
      expect(result.error).toBeUndefined();
      expect([...result.recordsOf('joined')[0]!].sort()).toEqual([
        ['a', [4, 10]],
        ['a', [4, 30]],
        ['b', [2, 20]],
        ['c', [4, 40]],
      ]);
      expect(sizesOf(result.recordsOf('sizes'))).toEqual([4]);
    });

    it(`a reduceByKey on a partitionBy(4) keeps its 4 partitions (${workers} workers)`, async () => {
      const result = await runBatches(job('bodyReduceOfPlacedDataset'), 1, { workers });
      expect(result.error).toBeUndefined();
      expect([...result.recordsOf('sums')[0]!].sort()).toEqual([
        ['a', 4],
        ['b', 2],
        ['c', 4],
      ]);
      expect(sizesOf(result.recordsOf('sizes'))).toEqual([4]);
    });
  }

  it("distinct keeps the dataset's partition count, subtractByKey its partitioner, as Spark's", async () => {
    // given batches of 3 partitions (defaultPartitions 2)
    const result = await runBatches(job('bodySetOpsKeepTheirPartitions'), 1);
    // then distinct has 3 partitions, and subtractByKey of a result placed by 4 has 4
    expect(result.error).toBeUndefined();
    expect(sizesOf(result.recordsOf('distinct'))).toEqual([3]);
    expect(sizesOf(result.recordsOf('subtractByKey'))).toEqual([4]);
  });

  it('DStream ops still hash into defaultPartitions, as Spark Streaming does', async () => {
    // given a DStream join and reduceByKey of a stream placed by 4 partitions, naming no partitioning,
    // defaultPartitions 2
    const result = await runBatches(job('streamOpsOfPlacedStream'), 1);
    // then both have 2 partitions, where the Dataset ops of the same batches would have 4
    expect(result.error).toBeUndefined();
    expect(sizesOf(result.recordsOf('join'))).toEqual([2]);
    expect(sizesOf(result.recordsOf('reduceByKey'))).toEqual([2]);
  });
});
