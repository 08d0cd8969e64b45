/**
 * Where a persisted dataset keeps its partitions. Worker threads and Lambdas share no memory, so memory
 * levels live in the memory of the process that computed the partition; the scheduler sends a partition's
 * later tasks to the same worker, and a miss is recomputed from lineage. `blockStore` survives any process and
 * cuts the lineage once every partition is written (a checkpoint).
 */
export type StorageLevel = 'memory' | 'memorySer' | 'blockStore' | 'memoryAndBlockStore';

/** The storage levels, for validation messages. */
export const STORAGE_LEVELS: readonly StorageLevel[] = [
  'memory',
  'memorySer',
  'blockStore',
  'memoryAndBlockStore',
];

/** How a persisted dataset travels in a plan. */
export interface PersistSpec {
  /**
   * Stable across restarts for a batch's datasets: `<streamId>@<batchTime>` for a stream's, `<streamId>.<n>@<batchTime>`
   * for the n-th a stream's body (transform, foreachRDD) persisted; `ds<id>` for a static dataset.
   */
  readonly key: string;
  readonly level: StorageLevel;
  /** Memory copies may be evicted once tasks of a batch after this time run. */
  readonly untilMs: number;
  /**
   * Set on a state stream's batches between its checkpoints: its blocks hold only what changed since `base`
   * (see `StateDelta`), so the bytes a batch writes follow the keys it touched, not the size of the state.
   */
  readonly delta?: StateDeltaSpec;
}

/** What a state dataset's delta is taken against. */
export interface StateDeltaSpec {
  /** The state's form: `[key, state]` records (updateStateByKey) or one state map (mapWithState). */
  readonly kind: 'pairs' | 'stateMap';
  /** The persistence key of the previous batch's state, which the delta is applied to. */
  readonly base: string;
  /** The id of that previous state's dataset in the plan (a parent in the same stage). */
  readonly baseDatasetId: number;
}

/** True when the level keeps a copy in process memory. */
export function inMemory(level: StorageLevel): boolean {
  return level !== 'blockStore';
}

/** True when the level writes the partitions to the block store. */
export function inBlockStore(level: StorageLevel): boolean {
  return level === 'blockStore' || level === 'memoryAndBlockStore';
}

/** The persistence key of a stream's dataset of one batch: the stream's id and the batch time. */
export function streamPersistKey(streamId: number | string, batchTime: number): string {
  return `${streamId}@${batchTime}`;
}

/**
 * The stream whose batch a persistence key names: `n7` for its own dataset (`n7@2000`, see {@link streamPersistKey})
 * and for one its body persisted (`n7.0@2000`, see `BodyPersistence`); undefined for a static dataset's (`ds12`).
 */
export function streamOfPersistKey(key: string): string | undefined {
  return /^(n\d+)(?:\.\d+)?@\d+$/.exec(key)?.[1];
}

/**
 * The batch time of a batch's persistence key ({@link streamPersistKey}, also that of a dataset a stream's body
 * persisted: see `BodyPersistence`); undefined for `ds<id>`, a static dataset's, which names no batch.
 */
export function batchTimeOfPersistKey(key: string): number | undefined {
  const at = key.lastIndexOf('@');
  if (at < 0) return undefined;
  const time = Number(key.slice(at + 1));
  return Number.isFinite(time) ? time : undefined;
}

/** The block key of one persisted partition. */
export function persistBlockKey(key: string, partition: number): string {
  return `persist/${key}/${partition}`;
}
