import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { type NarrowDependencySpec, parentPartitions } from './Dependency';
import type { TaskContext } from './TaskContext';

/**
 * Fewer partitions without a shuffle (Spark's CoalescedRDD): each partition is a run of consecutive parent
 * partitions, concatenated in order (see `CoalesceDependency`).
 */
export class CoalescedDataset<T = unknown> extends Dataset<T> {
  readonly type = 'coalesced';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): CoalescedDataset {
    return new CoalescedDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const dep = this.depSpecs[0] as NarrowDependencySpec; // built with one CoalesceDependency only
    const parts = await Promise.all(
      parentPartitions(dep, partition).map((p) => tc.partitionOf(dep.parent, p)),
    );
    return parts.length === 1 ? (parts[0] as T[]) : (parts.flat() as T[]);
  }
}
