import { defineJob } from '../../lib/job/JobModule';

/** Jobs of the test of windows computed ahead of their slide; module-level exports, so worker threads rebuild them. */

/** Six 1 s batches of tags; `bad` is a malformed record, in the first (an in-between) batch. */
export const TAG_BATCHES = [['a', 'b', 'bad'], ['a'], ['b', 'b'], ['c'], ['a', 'c'], []];

const parseTag = (line: string) => {
  if (line === 'bad') throw new Error('"bad" is not a tag');
  return line;
};

/** A 4 s window sliding every 2 s on 1 s batches: each odd batch is one the next window reads. */
export const tagsEverySecondBatch = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  ssc
    .queueStream(TAG_BATCHES, { partitions: 2 })
    .map(parseTag)
    .countByValueAndWindow(4000, 2000)
    .collectBatches('counts');
});

/**
 * Two output jobs at once, across batches (Spark's `concurrentJobs`), and a first batch whose partition takes
 * 1.5 s: on the system clock the slide at 2 s is due while the first batch is still being computed ahead.
 */
export const slowAheadTwoJobsAtOnce = defineJob(
  { batchIntervalMs: 1000, defaultPartitions: 1, concurrentJobs: 2 },
  (ssc) => {
    ssc
      .queueStream([['slow'], ['a']], { partitions: 1 })
      .mapPartitions((lines: string[]) => {
        // Blocks this worker thread only; the driver's clock goes on.
        if (lines.includes('slow')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
        return lines;
      })
      .countByValueAndWindow(2000, 2000)
      .collectBatches('counts');
  },
);

/** The same without an inverse function: a `window` over the per-batch counts, then a reduce. */
export const tagsEverySecondBatchRecomputed = defineJob(
  { batchIntervalMs: 1000, defaultPartitions: 2 },
  (ssc) => {
    ssc
      .queueStream(TAG_BATCHES, { partitions: 2 })
      .map(parseTag)
      .map((tag: string): [string, number] => [tag, 1])
      .reduceByKeyAndWindow((a: number, b: number) => a + b, 4000, 2000)
      .collectBatches('counts');
  },
);

/** A 1 s window sliding every 2 s: no window reads the odd batches, so none is computed ahead. */
export const windowShorterThanSlide = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  ssc.queueStream(TAG_BATCHES, { partitions: 2 }).map(parseTag).window(1000, 2000).collectBatches('tags');
});

/** A window whose per-batch stream fails as a whole (not a record) in the first batch, an in-between one. */
export const failsInBetween = defineJob({ batchIntervalMs: 1000, defaultPartitions: 1 }, (ssc) => {
  ssc
    .queueStream([['x'], ['y']], { partitions: 1 })
    .mapPartitions((lines: string[]) => {
      if (lines.includes('x')) throw new Error('the partition holding x cannot be computed');
      return lines;
    })
    .countByValueAndWindow(2000, 2000)
    .collectBatches('counts');
});
