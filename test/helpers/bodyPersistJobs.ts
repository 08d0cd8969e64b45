import type { Dataset } from '../../lib/dataset/Dataset';
import type { StorageLevel } from '../../lib/dataset/StorageLevel';
import type { StreamingContext } from '../../lib/StreamingContext';

/** The graph of the recovery tests of a dataset persisted inside a stream's body (`transform`). */

/** A number from a line, or a thrown error that dead-letters the line. */
export function parseNumber(line: string): number {
  if (!/^\d+$/.test(line)) throw new Error(`${JSON.stringify(line)} is not a number`);
  return Number(line);
}

/** One batch of lines a batch, the third with a malformed one; a queue replays them by batch time. */
export const BODY_PERSIST_LINES = [['1', '2'], ['3'], ['4', 'oops'], ['5'], ['6'], ['7']];

/**
 * The lines parsed inside a transform and persisted there at `level`, read by two outputs (the numbers, their
 * count), so the persisted dataset is computed once and read back once in each batch.
 */
export function transformPersisted(ssc: StreamingContext, level: StorageLevel, lines = BODY_PERSIST_LINES) {
  const numbers = ssc
    .queueStream(lines, { partitions: 1 })
    .transform((ds: Dataset<string>) => ds.map(parseNumber).persist(level));
  numbers.collectBatches('numbers');
  numbers.count().collectBatches('count');
  return numbers;
}

/**
 * {@link transformPersisted} in the block store, and a dataset the foreachRDD over its numbers makes, persisted
 * there too: every batch, a body of each kind writes blocks that cleanup deletes.
 */
export function transformAndForeachPersisted(ssc: StreamingContext, lines = BODY_PERSIST_LINES) {
  const numbers = transformPersisted(ssc, 'blockStore', lines);
  numbers.foreachRDD(async (ds: Dataset<number>) => {
    await ds
      .map((n) => n * 2)
      .persist('blockStore')
      .count();
  });
  return numbers;
}
