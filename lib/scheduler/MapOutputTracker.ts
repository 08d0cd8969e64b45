import type { LostShuffleOutput } from '../errors';
import type { MapStatus, ShuffleMergeSpec } from '../plan/Plan';
import { mergedStatuses } from '../shuffle/ShuffleMerger';

/**
 * Where one job's shuffle outputs are (Spark's MapOutputTracker, for a job): each shuffle's map statuses by map
 * partition and, for a combining shuffle, its merge tasks' statuses by group. A stage's tasks read the statuses
 * it gives; when one finds an output missing, {@link lose} tells which task wrote it, so that only that task runs
 * again.
 */
export class MapOutputTracker {
  private readonly mapped = new Map<number, MapStatus[]>();
  private readonly merged = new Map<number, { spec: ShuffleMergeSpec; byGroup: Map<number, MapStatus> }>();

  /** Records what map tasks of shuffle `shuffleId` wrote, by map partition; a recomputed one replaces its status. */
  addMapOutputs(shuffleId: number, byPartition: ReadonlyMap<number, MapStatus>): void {
    let statuses = this.mapped.get(shuffleId);
    if (!statuses) {
      statuses = [];
      this.mapped.set(shuffleId, statuses);
    }
    for (const [partition, status] of byPartition) statuses[partition] = status;
  }

  /** Records what a merge stage's tasks wrote, by group, in place of what an earlier run of the stage wrote. */
  setMerged(spec: ShuffleMergeSpec, byGroup: ReadonlyMap<number, MapStatus>): void {
    this.merged.set(spec.shuffleId, { spec, byGroup: new Map(byGroup) });
  }

  /** The map tasks' statuses of a shuffle, in map-partition order: what its merge tasks read. */
  mapStatuses(shuffleId: number): MapStatus[] {
    return this.mapped.get(shuffleId) ?? [];
  }

  /**
   * The statuses the stages reading a shuffle get: per group in map order, its merged status, or its map
   * statuses where it was not merged (or its merged output was lost).
   */
  statuses(shuffleId: number): MapStatus[] {
    const merged = this.merged.get(shuffleId);
    const mapped = this.mapStatuses(shuffleId);
    return merged ? mergedStatuses(merged.spec, mapped, merged.byGroup) : mapped;
  }

  /**
   * Forgets the output `key` of shuffle `shuffleId`, which a task found missing, and says which task wrote it; a
   * key this job did not record (written by no task of it) gives undefined. A lost merged output needs no task
   * run again: without it the readers read its group's map outputs, as they do where a group was not merged.
   */
  lose(shuffleId: number, key: string): LostShuffleOutput | undefined {
    const mapPartition = this.mapStatuses(shuffleId).findIndex((s) => s.key === key);
    if (mapPartition >= 0) return { shuffleId, key, mapPartition };
    const merged = this.merged.get(shuffleId);
    for (const [group, status] of merged?.byGroup ?? []) {
      if (status.key !== key) continue;
      merged!.byGroup.delete(group);
      return { shuffleId, key, mergeGroup: group };
    }
    return undefined;
  }
}
