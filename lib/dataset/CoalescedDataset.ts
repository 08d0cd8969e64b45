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

  compute(partition: number, tc: TaskContext): Promise<T[]> {
    const dep = this.depSpecs[0] as NarrowDependencySpec; // built with one CoalesceDependency only
    const reads = parentPartitions(dep, partition).map((p) => ({ parent: dep.parent, partition: p }));
    return this.concatenate(partition, reads, tc);
  }
}
