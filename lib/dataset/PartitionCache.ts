import { recordsFromJson, recordsToJson } from './jsonNumber';
import type { PersistSpec } from './StorageLevel';

/**
 * The memory tier of persisted partitions in one process (a worker thread, a Lambda container, the driver).
 * Entries carry the last batch time that may need them and are evicted once later batches run.
 */
export class PartitionCache {
  private readonly entries = new Map<
    string,
    { value: unknown; untilMs: number; serialized: boolean; run: string | undefined }
  >();

  /** The records of a cached partition, or undefined; with `run`, only a copy that driver run made. */
  get(persist: PersistSpec, partition: number, run?: string): unknown[] | undefined {
    const entry = this.entries.get(`${persist.key}:${partition}`);
    if (!entry || (run !== undefined && entry.run !== undefined && entry.run !== run)) return undefined;
    return entry.serialized ? recordsFromJson(entry.value as string) : (entry.value as unknown[]);
  }

  /**
   * Keeps a partition in memory, as live records or, for `memorySer`, as JSON text; `run` is the driver run whose
   * task made it (see `TaskPlan.driverRun`).
   */
  put(persist: PersistSpec, partition: number, records: unknown[], run?: string): void {
    const serialized = persist.level === 'memorySer';
    this.entries.set(`${persist.key}:${partition}`, {
      value: serialized ? recordsToJson(records) : records,
      untilMs: persist.untilMs,
      serialized,
      run,
    });
  }

  /** Drops the entries no batch at or after `batchTime` needs. */
  evictBefore(batchTime: number): void {
    for (const [key, entry] of this.entries) if (entry.untilMs < batchTime) this.entries.delete(key);
  }

  /** How many partitions are held. */
  get size(): number {
    return this.entries.size;
  }
}
