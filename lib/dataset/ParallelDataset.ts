import { Dataset, type DatasetOrigin, type DatasetSpec, sliceBounds } from './Dataset';
import { type NonFiniteNumber, nonFiniteNumbersIn, withNonFiniteNumbers } from './jsonNumber';

/** A small dataset whose records travel inline in the plan (Spark's ParallelCollectionRDD). */
export class ParallelDataset<T = unknown> extends Dataset<T> {
  readonly type = 'parallel';
  /**
   * The records' Infinity and NaN, named beside them in the plan: on Lambda the plan is JSON, which writes them as
   * null, so `ssc.parallelize([['z', Infinity]])` gave `['z', null]` there and `['z', Infinity]` locally. Found once
   * per dataset, when its plan form is first made (the data is the driver's own, and small).
   */
  private nonFinite: NonFiniteNumber[] | undefined;

  constructor(
    origin: DatasetOrigin,
    readonly data: readonly T[],
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): ParallelDataset {
    const { data, nonFiniteNumbers } = spec.args as { data: unknown[]; nonFiniteNumbers?: NonFiniteNumber[] };
    const records = nonFiniteNumbers ? (withNonFiniteNumbers(data, nonFiniteNumbers) as unknown[]) : data;
    return new ParallelDataset({ spec }, records);
  }

  protected args(): Record<string, unknown> {
    this.nonFinite ??= nonFiniteNumbersIn(this.data);
    return this.nonFinite.length > 0
      ? { data: this.data, nonFiniteNumbers: this.nonFinite }
      : { data: this.data };
  }

  compute(partition: number): T[] {
    const [from, to] = sliceBounds(this.data.length, this.numPartitions, partition);
    return this.data.slice(from, to);
  }
}
