import { Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';

/** A small dataset whose records travel inline in the plan (Spark's ParallelCollectionRDD). */
export class ParallelDataset<T = unknown> extends Dataset<T> {
  readonly type = 'parallel';

  constructor(
    origin: DatasetOrigin,
    readonly data: readonly T[],
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): ParallelDataset {
    return new ParallelDataset({ spec }, spec.args.data as unknown[]);
  }

  protected args(): Record<string, unknown> {
    return { data: this.data };
  }

  compute(partition: number): T[] {
    const [from, to] = sliceBounds(this.data.length, this.numPartitions, partition);
    return this.data.slice(from, to);
  }
}
