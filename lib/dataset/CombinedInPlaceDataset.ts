import { Aggregator } from '../shuffle/Aggregator';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { AggregatorSpec } from './Dependency';
import { KeyedMap } from './KeyedMap';
import type { TaskContext } from './TaskContext';

/**
 * A by-key combine of a dataset already placed by the partitioner it asks for: each key lives in one partition,
 * so each partition combines its own values and nothing moves (Spark's combineByKey does this with a
 * `mapPartitions` when `self.partitioner == Some(partitioner)`). A window over a reduced stream is reduced so.
 */
export class CombinedInPlaceDataset<T = unknown> extends Dataset<T> {
  readonly type = 'combinedInPlace';

  constructor(
    origin: DatasetOrigin,
    readonly aggregator: AggregatorSpec,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): CombinedInPlaceDataset {
    return new CombinedInPlaceDataset({ spec }, spec.args.aggregator as AggregatorSpec);
  }

  protected args(): Record<string, unknown> {
    return { aggregator: this.aggregator };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const records = await tc.partitionOf(this.depSpecs[0]!.parent, partition);
    const aggregator = new Aggregator(this.aggregator, (id) => tc.fn(id), tc.loops);
    const combined = new KeyedMap<unknown>();
    aggregator.combineValues(records, combined, (record, error) =>
      tc.deadLetter(this.toString(), partition, this.aggregator.mergeValue, record, error, this.origin),
    );
    return combined.toPairs() as T[];
  }
}
