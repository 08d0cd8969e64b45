import { randomUUID } from 'node:crypto';
import { batchTimeOfPersistKey, inBlockStore, type StorageLevel, streamOfPersistKey } from './StorageLevel';

/** What the driver knows of a persisted dataset's partitions (Spark's BlockManagerMaster, in small). */
export type PersistStatus = 'stored' | 'cached';

/**
 * Tracks, in the driver, which persisted partitions exist: when all of a dataset's partitions are in the block
 * store, plans read them instead of its lineage; when all are in worker memory, plans read the cache and fall
 * back to lineage on a miss.
 */
export class PersistenceTracker {
  /**
   * This driver run, which the tasks it plans carry (`TaskPlan.driverRun`). A worker's memory can outlive its
   * driver (a warm Lambda container serves the next coordinator): a copy another run made belongs to a batch this
   * tracker may not count as done, whose rerun must compute it again for its dead letters, not find it in memory.
   */
  readonly run = randomUUID();
  private readonly datasets = new Map<
    string,
    { stored: Set<number>; cached: Set<number>; partitions: number }
  >();
  /** The datasets of a stream's batch that a restart marked stored (see `restoredDatasets`). */
  private readonly restored = new Set<string>();

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

  /**
   * The datasets whose partitions are all in the block store, for the metadata checkpoint: of a batch's datasets
   * (a stream's, keyed `<stream>@<batchTime>`, and those a stream's body persisted, `<stream>.<n>@<batchTime>`),
   * only those up to `throughBatch`, the checkpoint's last completed batch. A restart reruns every later batch,
   * and a state that batch stored before the crash must not cut its lineage: read back, it skipped the
   * computation, and with it the dead letters a batch that never completed had not written yet (with concurrent
   * batches, an earlier batch's state was stored and listed by a later batch's checkpoint while the earlier one
   * still ran). A dataset of no batch (a static one, keyed by its id) is not listed: a restart computes it again
   * from its lineage, as Spark does.
   */
  storedDatasets(throughBatch = Number.POSITIVE_INFINITY): Array<{ key: string; numPartitions: number }> {
    return [...this.datasets]
      .filter(([key, e]) => {
        const batchTime = batchTimeOfPersistKey(key);
        return e.stored.size === e.partitions && batchTime !== undefined && batchTime <= throughBatch;
      })
      .map(([key, e]) => ({ key, numPartitions: e.partitions }));
  }

  /** After a restart: marks a checkpointed dataset as stored, so plans read it instead of its lineage. */
  markStored(key: string, numPartitions: number): void {
    for (let p = 0; p < numPartitions; p++) this.record(key, p, 'blockStore', numPartitions);
    if (streamOfPersistKey(key) !== undefined) this.restored.add(key);
  }

  /**
   * The datasets of `streamId`'s batches that a restart marked stored and this run has not forgotten: its own
   * (`n7@2000`) and those its body persisted (`n7.0@2000`). The stream drops those of the batches it forgets, as it
   * drops what it computed: a batch before the restart that this run never computes again (a window's parent no
   * window reads any more, a body's dataset) is in none of its maps, and a driver that died between the checkpoint
   * listing such a dataset and the cleanup deleting it left it for good otherwise, listed again by every checkpoint.
   */
  restoredDatasets(streamId: string): Array<{ key: string; batchTime: number; numPartitions: number }> {
    const restored: Array<{ key: string; batchTime: number; numPartitions: number }> = [];
    for (const key of this.restored) {
      const entry = this.datasets.get(key);
      const batchTime = batchTimeOfPersistKey(key)!; // a stream's key names its batch
      if (entry && streamOfPersistKey(key) === streamId)
        restored.push({ key, batchTime, numPartitions: entry.partitions });
    }
    return restored;
  }

  /**
   * The partitions of a stream's dataset that a restart marked stored, while all its blocks are counted stored;
   * undefined for any other dataset.
   */
  restoredPartitions(key: string): number | undefined {
    return this.restored.has(key) && this.status(key) === 'stored'
      ? this.datasets.get(key)!.partitions
      : undefined;
  }

  /** How many datasets are tracked (tests check that batches do not leak them). */
  get size(): number {
    return this.datasets.size;
  }

  /** Forgets a dataset that no batch needs any more. */
  forget(key: string): void {
    this.datasets.delete(key);
    this.restored.delete(key);
  }
}
