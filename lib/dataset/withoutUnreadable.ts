import { unreadableOf } from '../source/UnreadableRecord';
import type { Dataset } from './Dataset';
import type { TaskContext } from './TaskContext';

/**
 * The records of an input partition that are records. Each `UnreadableRecord` a source left in a record's place (a
 * line it could not decode) becomes a dead letter of `dataset`'s partition `partition`, with the source's reason. Both datasets that read
 * stored input, an input block and a batch of received blocks, pass their records through here.
 */
export function withoutUnreadable<R>(
  dataset: Dataset<unknown>,
  partition: number,
  records: readonly R[],
  tc: TaskContext,
): R[] {
  return records.filter((record) => {
    const unreadable = unreadableOf(record);
    if (unreadable === undefined) return true;
    tc.deadLetter(
      dataset.toString(),
      partition,
      'source',
      unreadable.input,
      new Error(unreadable.reason),
      dataset.origin,
    );
    return false;
  });
}
