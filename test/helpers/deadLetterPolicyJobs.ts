import { defineJob } from '../../lib/job/JobModule';

/** A number from a line, or a thrown error that dead-letters the line. */
function parseNumber(line: string): number {
  if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
  return Number(line);
}

/**
 * The flood of `deadLetterPolicy.test.ts` in a TypeScript job: batch 2 dead-letters 3 of its 4 lines, above the
 * 25% the context's `deadLetters` option allows. Module-level export for worker threads.
 */
export const floodInTypeScript = defineJob(
  { batchIntervalMs: 1000, deadLetters: { maxShare: 0.25, minCount: 2 } },
  (ssc) => {
    ssc
      .queueStream(
        [
          ['1', '2', '3', '4'],
          ['5', 'x', 'y', 'z'],
        ],
        { partitions: 2 },
      )
      .map(parseNumber)
      .jsonl({ path: 'out/numbers.jsonl', name: 'numbers' });
  },
);

/** A job whose saveAsTextFiles folder is complete when a later output fails, in batch 2. */
export const failsAfterFolder = defineJob({ batchIntervalMs: 1000, maxTaskAttempts: 1 }, (ssc) => {
  const numbers = ssc.queueStream([[1], [2]], { partitions: 1 });
  numbers.saveAsTextFiles('out/numbers');
  numbers
    .mapPartitions((records) => {
      if (records.includes(2)) throw new Error('the second batch breaks');
      return records;
    })
    .collectBatches('checked');
});
