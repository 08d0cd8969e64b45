import { defineJob } from '../../lib/job/JobModule';
import { readCheckpoint } from '../../lib/scheduler/CheckpointData';

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

/**
 * A jsonl output, then an output that holds batch 1 (of 100 ms batches, on the system clock) until the next
 * batch's generation has written its checkpoint, and reports that checkpoint: the rate limit makes the queue a
 * source that does not replay by batch time, whose generation checkpoints.
 */
export const slowAfterJsonl = defineJob({ batchIntervalMs: 100, maxTaskAttempts: 1 }, (ssc) => {
  const numbers = ssc.queueStream([[1], [2], [3]], { partitions: 1, maxRatePerSec: 1000 });
  numbers.jsonl({ path: 'out/numbers.jsonl', name: 'numbers' });
  numbers.foreachRDD(async (_ds, batchTime) => {
    if (batchTime !== 100) return;
    const deadline = Date.now() + 10_000;
    let checkpoint = await readCheckpoint(ssc.env().store);
    while (!checkpoint?.pendingBatches.includes(200) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      checkpoint = await readCheckpoint(ssc.env().store);
    }
    const seen = {
      lastCompletedBatch: checkpoint?.lastCompletedBatch,
      size: Object.entries(checkpoint?.outputs ?? {}).find(([file]) =>
        file.endsWith('/out/numbers.jsonl'),
      )?.[1],
    };
    ssc.emitOutput({ output: 'seen', type: 'foreachRDD', batchTime, records: [seen], count: 1 });
  }, 'wait');
});
