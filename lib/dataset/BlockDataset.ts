import { MissingBlockError } from '../errors';
import { unreadableOf } from '../source/UnreadableRecord';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { TaskContext } from './TaskContext';
import { withoutUnreadable } from './withoutUnreadable';

/**
 * An input block in the block store: one blob, one segment per partition (Spark's BlockRDD). Input its source
 * could not read (an `UnreadableRecord`) becomes a dead letter here, and never reaches a function.
 */
export class BlockDataset<T = unknown> extends Dataset<T> {
  readonly type = 'block';

  /**
   * @param key the blob's key in the block store
   * @param offsets byte offsets of the partitions: partition i is `offsets[i]` to `offsets[i + 1]`
   */
  constructor(
    origin: DatasetOrigin,
    readonly key: string,
    readonly offsets: readonly number[],
  ) {
    super(origin);
  }

  /**
   * The block of a batch that cleanup deleted because no batch still to compute reads it (a restart builds
   * lineage back to the start but reads it only from state checkpoints on). Reading it means a block of such a
   * checkpoint is gone from the store (or cleanup erred), and fails with the key, instead of computing a wrong window
   * from an empty batch.
   */
  static forgotten<T>(origin: DatasetOrigin, key: string): BlockDataset<T> {
    return new BlockDataset<T>(origin, key, []);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): BlockDataset {
    return new BlockDataset({ spec }, spec.args.key as string, spec.args.offsets as number[]);
  }

  protected args(): Record<string, unknown> {
    return { key: this.key, offsets: this.offsets };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    if (this.offsets.length === 0) {
      // Cleanup deleted it once a state or window checkpoint made it unneeded; read now, a block of that checkpoint
      // is gone (deleted by hand), or cleanup erred.
      throw new MissingBlockError(this.key);
    }
    const start = this.offsets[partition]!;
    const end = this.offsets[partition + 1]!;
    if (start === end) return [];
    const records = (await tc.readSegment(this.key, start, end)) as T[];
    return records.some((r) => unreadableOf(r) !== undefined)
      ? withoutUnreadable(this, partition, records, tc)
      : records;
  }
}
