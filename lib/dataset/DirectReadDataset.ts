import { directReader } from '../source/directReaders';
import type { ReadPlan } from '../source/Source';
import { unreadableOf } from '../source/UnreadableRecord';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import type { TaskContext } from './TaskContext';
import { withoutUnreadable } from './withoutUnreadable';

/**
 * A batch of a source whose tasks read their input themselves (Kinesis, S3 on the serverless runtime): the plan
 * carries what each partition reads (a shard's range, a list of keys), fixed in the metadata checkpoint before
 * the batch ran, and the task reads it with the reader registered under the plan's name. A recomputed partition
 * reads the same part, so the same records.
 */
export class DirectReadDataset<T = unknown> extends Dataset<T> {
  readonly type = 'directRead';

  constructor(
    origin: DatasetOrigin,
    readonly plan: ReadPlan,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): DirectReadDataset {
    const { plan } = spec.args as { plan: ReadPlan };
    return new DirectReadDataset({ spec }, plan);
  }

  protected args(): Record<string, unknown> {
    return { plan: this.plan };
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    const part = this.plan.parts[partition];
    // A null part reads nothing (a batch the job slept through): no reader needed.
    if (part === null || part === undefined) return [];
    const records = await directReader(this.plan)(part, {
      batchTime: tc.batchTime,
      partition,
      putReport: (key, bytes) => tc.writeBlock(key, bytes),
    });
    // A line a reader could not decode (a folder's bytes that are not UTF-8) is a dead letter, as in an input block.
    return (
      records.some((r) => unreadableOf(r) !== undefined)
        ? withoutUnreadable(this, partition, records, tc)
        : records
    ) as T[];
  }
}
