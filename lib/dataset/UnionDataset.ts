import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { parentPartitions } from './Dependency';
import type { TaskContext } from './TaskContext';

/** The partitions of several datasets side by side, without moving records (Spark's UnionRDD). */
export class UnionDataset<T = unknown> extends Dataset<T> {
  readonly type = 'union';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): UnionDataset {
    return new UnionDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  compute(partition: number, tc: TaskContext): Promise<T[]> {
    const source = this.sourceOf(partition);
    return tc.partitionOf(source.parent, source.partition) as Promise<T[]>;
  }

  /** The origins of the parent partition that is this partition. */
  override originsOf(partition: number, tc: TaskContext): readonly unknown[] | undefined {
    const source = this.sourceOf(partition);
    return tc.originsOf(source.parent, source.partition);
  }

  /** The parent partition that is, record for record, the union's partition `partition`. */
  sourceOf(partition: number): { parent: number; partition: number } {
    for (const dep of this.depSpecs) {
      const [read] = dep.type === 'range' ? parentPartitions(dep, partition) : [];
      if (read !== undefined) return { parent: dep.parent, partition: read };
    }
    throw new RangeError(`union ${this.id} has no partition ${partition}`);
  }
}
