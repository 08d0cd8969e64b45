import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { KeyedMap } from './KeyedMap';
import { pairOf } from './pairOf';
import type { TaskContext } from './TaskContext';

/**
 * Groups several keyed datasets by key (Spark's CoGroupedRDD): each output record is
 * `[key, [valuesOfFirst, valuesOfSecond, …]]`. Joins are built on it. A record that is not a `[key, value]`
 * pair is dead-lettered and the others go on.
 */
export class CoGroupedDataset extends Dataset<[unknown, unknown[][]]> {
  readonly type = 'cogroup';

  constructor(origin: DatasetOrigin) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): CoGroupedDataset {
    return new CoGroupedDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  async compute(partition: number, tc: TaskContext): Promise<[unknown, unknown[][]][]> {
    const width = this.depSpecs.length;
    const groups = new KeyedMap<unknown[][]>();
    for (let side = 0; side < width; side++) {
      const dep = this.depSpecs[side]!;
      const segments =
        dep.type === 'shuffle'
          ? await tc.shuffleRead(dep.shuffleId, partition)
          : [await tc.partitionOf(dep.parent, partition)];
      for (const segment of segments) {
        for (const record of segment) {
          let key: unknown;
          let value: unknown;
          try {
            [key, value] = pairOf(record);
            let group = groups.get(key);
            if (group === undefined) {
              group = Array.from({ length: width }, () => []);
              groups.set(key, group);
            }
            group[side]!.push(value);
          } catch (error) {
            tc.deadLetter(this.toString(), partition, 'cogroup', record, error, this.origin);
          }
        }
      }
    }
    return groups.toPairs();
  }
}
