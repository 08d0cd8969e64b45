import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { type NarrowDependencySpec, parentPartitions } from './Dependency';
import type { TaskContext } from './TaskContext';

/**
 * Every pair of a record of one dataset and a record of another, `[a, b]` (Spark's CartesianRDD): partition
 * i·n + j of m × n pairs partition i of the first with partition j of the second (see `CartesianDependency`),
 * each record of the first with every record of the second in turn, as Spark's iterator does.
 */
export class CartesianDataset<A = unknown, B = unknown> extends Dataset<[A, B]> {
  readonly type = 'cartesian';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): CartesianDataset {
    return new CartesianDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  async compute(partition: number, tc: TaskContext): Promise<[A, B][]> {
    // One CartesianDependency per side; a dataset with itself reads one memoized partition when i = j.
    const [as, bs] = (await Promise.all(
      this.depSpecs.map((spec) => {
        const dep = spec as NarrowDependencySpec;
        return tc.partitionOf(dep.parent, parentPartitions(dep, partition)[0]!);
      }),
    )) as [A[], B[]];
    const pairs: [A, B][] = [];
    for (const a of as) for (const b of bs) pairs.push([a, b]);
    return pairs;
  }
}
