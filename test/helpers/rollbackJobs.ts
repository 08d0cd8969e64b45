import { defineJob } from '../../lib/job/JobModule';

/** A job whose second batch fails after its first output appended to a jsonl file. Module-level export for threads. */
export const failsAfterJsonl = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 1 }, (ssc) => {
  const numbers = ssc.queueStream([[1], [2]], { partitions: 1 });
  numbers.jsonl({ path: 'out/numbers.jsonl', name: 'numbers' });
  numbers
    .mapPartitions((records) => {
      if (records.includes(2)) throw new Error('the second batch breaks');
      return records;
    })
    .saveAsTextFiles('out/checked', 'txt');
});
