import { CacheMissError, MissingBlockError } from '../errors';
import { decodeStoredPartition } from '../storage/SegmentedBlob';
import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { readStatePartition } from './StateDelta';
import { persistBlockKey } from './StorageLevel';
import type { TaskContext } from './TaskContext';

/**
 * A persisted dataset read back instead of recomputed. `stored` reads the block store (the lineage is cut);
 * `cached` reads this process's memory and fails with a cache miss, which makes the driver replan. A state
 * stream's partition stored as a delta is rebuilt from the snapshot and deltas before it (see `StateDelta`).
 * In the driver, one stands for a stream's dataset that a restart found stored (see `DStream.restoredDataset`).
 */
export class PersistedDataset extends Dataset {
  readonly type: 'stored' | 'cached';

  constructor(origin: DatasetOrigin) {
    super(origin);
    this.type = 'spec' in origin ? (origin.spec.type as 'stored' | 'cached') : 'stored';
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): PersistedDataset {
    return new PersistedDataset({ spec });
  }

  protected args(): Record<string, unknown> {
    return {};
  }

  async compute(partition: number, tc: TaskContext): Promise<unknown[]> {
    const persist = this.persistSpec!;
    const cached = tc.cached(persist, partition);
    if (cached) return cached;
    if (this.type === 'cached') throw new CacheMissError(persist.key);
    const key = persistBlockKey(persist.key, partition);
    const bytes = await tc.readBlock(key);
    if (!bytes) throw new MissingBlockError(key);
    const records = decodeStoredPartition(key, bytes, tc.storeMayEmptyBlocks);
    // A state stream's batch between checkpoints stored only its changes: rebuild it from its base.
    return persist.delta ? readStatePartition(persist, partition, records, tc) : records;
  }
}
