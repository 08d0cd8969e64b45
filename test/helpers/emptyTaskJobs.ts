import type { State } from '../../lib/dataset/State';
import { defineJob } from '../../lib/job/JobModule';

/**
 * Input over 4 partitions in which most partitions, and whole batches, are empty: one line in 4 partitions, then
 * nothing, then one line again, then nothing long enough for every key's state to time out.
 */
export const SPARSE_INPUT: string[][] = [['a b bad'], [], ['a'], [], [], [], [], []];

function wordsOf(line: string): string[] {
  return line.split(' ');
}
function pairOrThrow(word: string): [string, number] {
  if (word === 'bad') throw new Error('a bad word');
  return [word, 1];
}
function sum(a: number, b: number): number {
  return a + b;
}
function partitionSize(records: string[]): number[] {
  return [records.length];
}
function countOrForget(values: number[], count: number | undefined): number | undefined {
  // A key with no new value in a batch is dropped: the update runs for every key, with or without new values.
  return values.length === 0 ? undefined : (count ?? 0) + values.length;
}
function lastSeen(key: string, value: number | undefined, state: State<number>, batchTime: number): unknown {
  if (state.isTimingOut()) return ['timeout', key, state.get(), batchTime];
  state.update(value ?? 0);
  return undefined;
}

/**
 * What runs on a partition that is empty: every kind a runner may answer without running it (map, filter, a
 * keyed shuffle's both sides, union, coalesce, count) beside the kinds that must run (state with timeouts, a
 * partition function, glom, saveAsTextFiles), and a map that dead-letters a record.
 */
export const sparse = defineJob({ batchIntervalMs: 1000, defaultPartitions: 4 }, (ssc) => {
  const lines = ssc.queueStream(SPARSE_INPUT, { partitions: 4 });
  const pairs = lines.flatMap(wordsOf).map(pairOrThrow);
  const counts = pairs.reduceByKey(sum, 4);
  counts.collectBatches('counts');
  counts
    .union(pairs)
    .transform((ds) => ds.coalesce(2))
    .repartition(3)
    .filter((pair) => pair[1] > 0)
    .collectBatches('unionCoalesceRepartition');
  pairs.count().collectBatches('count');
  pairs.updateStateByKey(countOrForget).collectBatches('state');
  pairs
    .mapWithState({ fn: lastSeen, timeoutMs: 2000 })
    .filter((mapped) => mapped !== undefined)
    .collectBatches('timeouts');
  lines.mapPartitions(partitionSize).collectBatches('partitionSizes');
  lines
    .glom()
    .map((records) => records.length)
    .collectBatches('glom');
  lines.saveAsTextFiles('lines');
});
