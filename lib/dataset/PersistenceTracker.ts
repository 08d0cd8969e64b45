import { inBlockStore, type StorageLevel } from './StorageLevel';

/** What the driver knows of a persisted dataset's partitions (Spark's BlockManagerMaster, in small). */
export type PersistStatus = 'stored' | 'cached';

/**
 * Tracks, in the driver, which persisted partitions exist: when all of a dataset's partitions are in the block
 * store, plans read them instead of its lineage; when all are in worker memory, plans read the cache and fall
 * back to lineage on a miss.
 */
export class PersistenceTracker {
  private readonly datasets = new Map<string, { stored: Set<number>; cached: Set<number>; partitions: number }>();

  /** Records that a task persisted one partition. */
  record(key: string, partition: number, level: StorageLevel, numPartitions: number): void {
    let entry = this.datasets.get(key);
    if (!entry) {
      entry = { stored: new Set(), cached: new Set(), partitions: numPartitions };
      this.datasets.set(key, entry);
    }
    if (inBlockStore(level)) entry.stored.add(partition);
    if (level !== 'blockStore') entry.cached.add(partition);
  }

  /** Whether every partition is stored (lineage can be cut) or cached in memory. */
  status(key: string): PersistStatus | undefined {
    const entry = this.datasets.get(key);
    if (!entry) return undefined;
    if (entry.stored.size === entry.partitions) return 'stored';
    if (entry.cached.size === entry.partitions) return 'cached';
    return undefined;
  }

  /** Forgets the memory copies of a dataset after a cache miss, so the next plan recomputes them. */
  invalidateCache(key: string): void {
    this.datasets.get(key)?.cached.clear();
  }

  /** Forgets a dataset that no batch needs any more. */
  forget(key: string): void {
    this.datasets.delete(key);
  }
}
