import { decodeReceivedRecords, type ReceivedBlockFormat } from '../storage/ReceivedBlock';
import { Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';
import type { TaskContext } from './TaskContext';
import { withoutUnreadable } from './withoutUnreadable';

/** One block a receiving source's records were cut into during the interval (see `BlockGenerator`). */
export interface ReceivedBlockRef {
  /** The block's key in the job's store. */
  readonly key: string;
  /** How many records it holds. */
  readonly records: number;
  /** Newline-delimited text or a JSON array (see `encodeReceivedBlock`). */
  readonly format: ReceivedBlockFormat;
}

/**
 * A batch of received input: the blocks stored during its interval, laid end to end in the order they were cut
 * (Spark's BlockRDD). Spark makes one partition per block; here the batch keeps its stream's partition count,
 * and partition i holds records [⌊i·n/p⌋, ⌊(i+1)·n/p⌋) of the n records, as every other input batch does, so a
 * partition reads the blocks its range overlaps (a block on a boundary is read by both of its partitions).
 * Input its source could not read (an `UnreadableRecord`) becomes a dead letter here, as in `BlockDataset`.
 */
export class ReceivedBlocksDataset<T = unknown> extends Dataset<T> {
  readonly type = 'receivedBlocks';

  constructor(
    origin: DatasetOrigin,
    readonly blocks: readonly ReceivedBlockRef[],
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): ReceivedBlocksDataset {
    return new ReceivedBlocksDataset({ spec }, spec.args.blocks as ReceivedBlockRef[]);
  }

  protected args(): Record<string, unknown> {
    return { blocks: this.blocks };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const total = this.blocks.reduce((sum, block) => sum + block.records, 0);
    const [from, to] = sliceBounds(total, this.numPartitions, partition);
    let records: unknown[] = [];
    let unreadable = false;
    let blockStart = 0;
    for (const block of this.blocks) {
      const blockEnd = blockStart + block.records;
      if (blockEnd > from && blockStart < to) {
        const bytes = await tc.readBlock(block.key);
        if (!bytes) throw new Error(`input block ${block.key} is missing from the store`);
        const part = decodeReceivedRecords(
          bytes,
          block.format,
          block.records,
          Math.max(from, blockStart) - blockStart,
          Math.min(to, blockEnd) - blockStart,
        );
        // The common case, a partition within one block, takes the decoded array as it is.
        records = records.length === 0 ? part : records.concat(part);
        unreadable ||= block.format === 'json';
      }
      blockStart = blockEnd;
      if (blockStart >= to) break;
    }
    return (unreadable ? withoutUnreadable(this, records, tc) : records) as T[];
  }
}
