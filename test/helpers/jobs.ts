import { defineJob } from '../../lib/job/JobModule';

/** Jobs shared by the engine tests: each builds a graph that workers can rebuild from this module. */

export const wordCount = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  ssc
    .queueStream([['a b', 'b c'], [], ['c c']], { partitions: 2 })
    .flatMap((line: string) => line.split(' '))
    .map((w) => [w, 1] as [string, number])
    .reduceByKey((a, b) => a + b)
    .collectBatches('counts');
});
