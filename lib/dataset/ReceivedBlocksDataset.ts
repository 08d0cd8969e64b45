import { MissingBlockError } from '../errors';
import type { BlockLease } from '../storage/BlockStore';
import { decodeReceivedRecords, forEachTextChunk, type ReceivedBlockFormat } from '../storage/ReceivedBlock';
import { type ConsumeChunk, Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';
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
    let records: unknown[] = [];
    let unreadable = false;
    for (const part of this.partsOf(partition)) {
      const decoded = await decodePart(part, tc);
      // The common case, a partition within one block, takes the decoded array as it is.
      records = records.length === 0 ? decoded : records.concat(decoded);
      unreadable ||= part.block.format === 'json';
    }
    return (unreadable ? withoutUnreadable(this, partition, records, tc) : records) as T[];
  }

  /** The partition's records a slice of a block at a time: text is decoded about {@link CHUNK_BYTES} at once. */
  async forEachChunk(partition: number, tc: TaskContext, consume: ConsumeChunk): Promise<void> {
    for (const part of this.partsOf(partition)) {
      const { block, from, to } = part;
      if (block.format === 'json') {
        const pending = consume(withoutUnreadable(this, partition, await decodePart(part, tc), tc));
        if (pending) await pending;
        continue;
      }
      // Every chunk is decoded to strings before `consume` sees it, so nothing views the bytes once they are read.
      const lease = await borrow(block, tc);
      try {
        await forEachTextChunk(lease.bytes, block.records, from, to, CHUNK_BYTES, consume);
      } finally {
        lease.release();
      }
    }
  }

  /** The blocks partition i overlaps, each with the range [from, to) of its own records that the partition holds. */
  private partsOf(partition: number): BlockPart[] {
    const total = this.blocks.reduce((sum, block) => sum + block.records, 0);
    const [from, to] = sliceBounds(total, this.numPartitions, partition);
    const parts: BlockPart[] = [];
    let blockStart = 0;
    for (const block of this.blocks) {
      const blockEnd = blockStart + block.records;
      if (blockEnd > from && blockStart < to) {
        parts.push({
          block,
          from: Math.max(from, blockStart) - blockStart,
          to: Math.min(to, blockEnd) - blockStart,
        });
      }
      blockStart = blockEnd;
      if (blockStart >= to) break;
    }
    return parts;
  }
}

/** The records [from, to) of one block that a partition holds. */
interface BlockPart {
  readonly block: ReceivedBlockRef;
  readonly from: number;
  readonly to: number;
}

/**
 * Text decoded per chunk: 64 KiB, about what a socket read hands a line reader, so that a chunk's string and its
 * lines stay in the young generation (a string over 128 KiB would be allocated as a large object).
 */
const CHUNK_BYTES = 64 * 1024;

/** A part's records, decoded from its block's bytes, which are let go as soon as they are decoded. */
async function decodePart(part: BlockPart, tc: TaskContext): Promise<unknown[]> {
  const { block, from, to } = part;
  const lease = await borrow(block, tc);
  try {
    return decodeReceivedRecords(lease.bytes, block.format, block.records, from, to);
  } finally {
    lease.release();
  }
}

/** A block's bytes, lent until the lease is released: a block is read, decoded and let go. */
async function borrow(block: ReceivedBlockRef, tc: TaskContext): Promise<BlockLease> {
  const lease = await tc.borrowBlock(block.key);
  if (!lease) throw new MissingBlockError(block.key);
  return lease;
}
