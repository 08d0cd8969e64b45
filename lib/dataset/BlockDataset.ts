import { decodeSegment } from '../storage/SegmentedBlob';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { TaskContext } from './TaskContext';

/** An input block in the block store: one blob, one segment per partition (Spark's BlockRDD). */
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

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): BlockDataset {
    return new BlockDataset({ spec }, spec.args.key as string, spec.args.offsets as number[]);
  }

  protected args(): Record<string, unknown> {
    return { key: this.key, offsets: this.offsets };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const start = this.offsets[partition]!;
    const end = this.offsets[partition + 1]!;
    if (start === end) return [];
    return decodeSegment(await tc.readBlockRange(this.key, start, end)) as T[];
  }
}
