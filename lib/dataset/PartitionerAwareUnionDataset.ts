import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { TaskContext } from './TaskContext';

/**
 * The union of datasets placed by the same partitioner (Spark's PartitionerAwareUnionRDD): partition i is the
 * concatenation of every parent's partition i, so the partitioner survives and a later by-key operation needs
 * no shuffle. Windows over reduced streams are made of it.
 */
export class PartitionerAwareUnionDataset<T = unknown> extends Dataset<T> {
  readonly type = 'partitionerAwareUnion';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): PartitionerAwareUnionDataset {
    return new PartitionerAwareUnionDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  compute(partition: number, tc: TaskContext): Promise<T[]> {
    return this.concatenate(
      partition,
      this.depSpecs.map((dep) => ({ parent: dep.parent, partition })),
      tc,
    );
  }
}
