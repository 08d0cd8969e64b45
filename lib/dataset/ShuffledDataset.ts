import { Aggregator } from '../shuffle/Aggregator';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { AggregatorSpec } from './Dependency';
import { KeyedMap } from './KeyedMap';
import type { TaskContext } from './TaskContext';

/**
 * The reduce side of a shuffle (Spark's ShuffledRDD): reads its partition from every map task's blob and,
 * when the shuffle aggregates, combines values per key.
 */
export class ShuffledDataset<T = unknown> extends Dataset<T> {
  readonly type = 'shuffled';

  constructor(
    origin: DatasetOrigin,
    readonly aggregator: AggregatorSpec | undefined,
    readonly mapSideCombine: boolean,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): ShuffledDataset {
    return new ShuffledDataset(
      { spec },
      spec.args.aggregator as AggregatorSpec | undefined,
      spec.args.mapSideCombine === true,
    );
  }

  protected args(): Record<string, unknown> {
    return this.aggregator ? { aggregator: this.aggregator, mapSideCombine: this.mapSideCombine } : {};
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const dep = this.depSpecs[0]!;
    if (dep.type !== 'shuffle') throw new Error(`shuffled dataset ${this.id} needs a shuffle dependency`);
    const segments = await tc.shuffleRead(dep.shuffleId, partition);
    if (!this.aggregator) return segments.flat() as T[];
    const aggregator = new Aggregator(this.aggregator, (id) => tc.fn(id), tc.loops);
    const fail = (record: unknown, error: unknown) =>
      tc.deadLetter(this.toString(), partition, this.aggregator!.mergeCombiners, record, error, this.origin);
    const combined = new KeyedMap<unknown>();
    for (const segment of segments) {
      if (this.mapSideCombine) aggregator.combineCombiners(segment, combined, fail);
      else aggregator.combineValues(segment, combined, fail);
    }
    return combined.toPairs() as T[];
  }
}
