import { MissingBlockError } from '../errors';
import { decodeStoredPartition, encodePartition } from '../storage/SegmentedBlob';
import { KeyedMap } from './KeyedMap';
import { MapWithStateDataset } from './MapWithStateDataset';
import type { StateRecord } from './StateMap';
import { type PersistSpec, persistBlockKey, type StateDeltaSpec } from './StorageLevel';
import type { TaskContext } from './TaskContext';

/**
 * Incremental state in the block store (the idea of changelog checkpointing in Spark's RocksDB state store).
 * A state stream's checkpoint batches write a full snapshot of each partition; the batches between write a
 * delta: the keys the batch put, the keys it removed (tombstones, timed-out keys included) and, for
 * mapWithState, the batch's mapped values, over the previous batch's state. The block key stays
 * `persist/<stream>@<batchTime>/<partition>`, so a retried or speculative task rewrites the same object, and
 * the stream's cleanup keeps the newest snapshot a recovery starts from and every delta after it.
 *
 * Reading a partition back (a task in a fresh container, or a coordinator restarted from its metadata
 * checkpoint) follows the deltas' bases down to a snapshot, or to a copy this process holds in memory, and
 * applies the deltas oldest first.
 */
export interface StateDeltaBlock {
  /** Marks the block's one record as a delta (a full block holds the partition's records themselves). */
  readonly stateDelta: StateDeltaSpec['kind'];
  /** The persistence key of the state this delta applies to. */
  readonly base: string;
  /** `[key, state, updatedMs]` for mapWithState, `[key, state]` for updateStateByKey. */
  readonly put: unknown[][];
  /** Keys whose state was removed (or timed out). */
  readonly removed: unknown[];
  /** mapWithState: the batch's mapped values, which its record carries with the state. */
  readonly mapped?: unknown[];
  /** mapWithState: the timeout watermark (null for none yet: JSON has no -Infinity). */
  readonly timedOutBeforeMs?: number | null;
}

/** The bytes a persisted partition is written as: the delta its spec asks for, or the records themselves. */
export async function persistedBlock(
  persist: PersistSpec,
  partition: number,
  records: unknown[],
  tc: TaskContext,
): Promise<Uint8Array> {
  const delta = persist.delta && (await deltaOf(persist.delta, partition, records, tc));
  return encodePartition(delta ? [delta] : records);
}

/** The delta of one computed partition over its base, or undefined when only a full block will do. */
async function deltaOf(
  spec: StateDeltaSpec,
  partition: number,
  records: unknown[],
  tc: TaskContext,
): Promise<StateDeltaBlock | undefined> {
  if (spec.kind === 'stateMap') {
    const { stateMap, mapped } = MapWithStateDataset.recordOf(records);
    const put: unknown[][] = [];
    const removed: unknown[] = [];
    for (const [key, entry] of stateMap.changes()) {
      if (entry) put.push([key, entry.state, entry.updatedMs]);
      else removed.push(key);
    }
    const watermark = stateMap.timedOutBeforeMs;
    return {
      stateDelta: 'stateMap',
      base: spec.base,
      put,
      removed,
      mapped,
      timedOutBeforeMs: Number.isFinite(watermark) ? watermark : null,
    };
  }
  // updateStateByKey runs its function over every key anyway; the previous state is a parent in this stage,
  // already read, so comparing with it costs no request, and only the keys that changed are written.
  const previous = (await tc.partitionOf(spec.baseDatasetId, partition)) as Array<[unknown, unknown]>;
  const before = new KeyedMap<unknown>();
  for (const [key, state] of previous) before.set(key, state);
  const put: unknown[][] = [];
  const live = new KeyedMap<true>();
  for (const [key, state] of records as Array<[unknown, unknown]>) {
    live.set(key, true);
    const old = before.get(key);
    if (old === undefined || !sameState(old, state)) put.push([key, state]);
  }
  const removed: unknown[] = [];
  for (const [key] of previous) if (!live.get(key)) removed.push(key);
  return { stateDelta: 'pairs', base: spec.base, put, removed };
}

/** Same stored form: a state that JSON writes the same way reads back the same after a recovery. */
function sameState(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || (typeof a === 'object' && JSON.stringify(a) === JSON.stringify(b));
}

/** True when a decoded block is a state delta rather than a partition's records. */
function isDelta(records: readonly unknown[]): records is [StateDeltaBlock] {
  const first = records[0] as Partial<StateDeltaBlock> | undefined;
  return (
    records.length === 1 &&
    typeof first === 'object' &&
    first !== null &&
    !Array.isArray(first) &&
    (first.stateDelta === 'pairs' || first.stateDelta === 'stateMap') &&
    typeof first.base === 'string'
  );
}

/**
 * A state partition read back from the block store: a full block as it is, a delta applied to its base, which
 * is read the same way (from this process's memory when it holds it, else from the store).
 */
export async function readStatePartition(
  persist: PersistSpec,
  partition: number,
  block: unknown[],
  tc: TaskContext,
): Promise<unknown[]> {
  const chain: StateDeltaBlock[] = [];
  let records = block;
  let key = persist.key;
  while (isDelta(records)) {
    const delta = records[0];
    chain.push(delta);
    const base = { ...persist, key: delta.base };
    const cached = tc.cached(base, partition);
    if (cached) {
      records = cached;
      break;
    }
    const blockKey = persistBlockKey(delta.base, partition);
    const bytes = await tc.readBlock(blockKey);
    // The same error as any other block gone from the store: a recovery needs the newest snapshot and every delta
    // after it, and the way out (put the files back, or start over) is the same.
    if (!bytes)
      throw new MissingBlockError(blockKey, `the base of the state delta ${persistBlockKey(key, partition)}`);
    key = delta.base;
    records = decodeStoredPartition(blockKey, bytes, tc.storeMayEmptyBlocks);
  }
  for (let i = chain.length - 1; i >= 0; i--) records = applyDelta(records, chain[i]!);
  return records;
}

/** The records of the state after `delta`, given those before it (left as they are: a cached copy). */
function applyDelta(before: unknown[], delta: StateDeltaBlock): unknown[] {
  if (delta.stateDelta === 'stateMap') {
    // A generation over the base, which stays valid for whoever else holds it.
    const stateMap = MapWithStateDataset.recordOf(before).stateMap.nextGeneration();
    for (const [key, state, updatedMs] of delta.put as StateRecord[]) stateMap.put(key, state, updatedMs);
    for (const key of delta.removed) stateMap.remove(key);
    stateMap.timedOutBeforeMs = delta.timedOutBeforeMs ?? Number.NEGATIVE_INFINITY;
    return [{ stateMap, mapped: delta.mapped ?? [] }];
  }
  // The base's order, changed states in place, removed keys out, new keys at the end.
  const changed = new KeyedMap<unknown>();
  for (const [key, state] of delta.put) changed.set(key, state);
  const gone = new KeyedMap<true>();
  for (const key of delta.removed) gone.set(key, true);
  const after: unknown[] = [];
  const seen = new KeyedMap<true>();
  for (const [key, state] of before as Array<[unknown, unknown]>) {
    if (gone.get(key)) continue;
    seen.set(key, true);
    const next = changed.get(key);
    after.push([key, next === undefined ? state : next]);
  }
  for (const [key, state] of delta.put) if (!seen.get(key)) after.push([key, state]);
  return after;
}
