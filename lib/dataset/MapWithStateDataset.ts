import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { type Dependency, type DependencySpec, OneToOneDependency, ShuffleDependency } from './Dependency';
import type { AnyFn } from './FnScope';
import type { HashPartitioner } from './Partitioner';
import { pairOf } from './pairOf';
import { KeyState } from './State';
import { type StateEntry, StateMap, type StateRecord } from './StateMap';
import { inBlockStore } from './StorageLevel';
import type { TaskContext } from './TaskContext';

/** The one record of each partition of mapWithState's state stream: the state and this batch's mapped values. */
export interface MapWithStateRecord<K = unknown, S = unknown, U = unknown> {
  readonly stateMap: StateMap<K, S>;
  readonly mapped: U[];
}

/** What the first dependency of a mapWithState dataset holds. */
export type PreviousState = 'state' | 'pairs' | 'none';

/** How the driver builds one batch's mapWithState dataset. */
export interface MapWithStateInputs {
  /** This batch's `[key, value]` records. */
  readonly data: Dataset<[unknown, unknown]>;
  /** The previous batch's state dataset, or the initial `[key, state]` pairs, or nothing. */
  readonly previous: { readonly kind: 'state' | 'pairs'; readonly dataset: Dataset<any> } | undefined;
  readonly partitioner: HashPartitioner;
  /** The mapping function's id: `(key, value, state, batchTime) => mapped value | undefined`. */
  readonly fnId: string;
  readonly batchTime: number;
  /** Keys idle for longer than this get a last call and are removed; undefined: no timeout. */
  readonly timeoutMs: number | undefined;
}

/**
 * One batch of mapWithState (Spark's MapWithStateRDD): partition p holds one `MapWithStateRecord`, computed
 * from partition p of the previous batch's state (read in place: same partitioner) and this batch's records
 * for p's keys. Only those records are applied, to a new generation layered over the previous state map, so
 * a batch costs what it touches. A function that throws on a record sends the record to the dead-letter
 * output and leaves the key's state as it was.
 */
export class MapWithStateDataset extends Dataset<MapWithStateRecord> {
  readonly type = 'mapWithState';

  private constructor(
    origin: DatasetOrigin,
    readonly fnId: string,
    readonly batchTime: number,
    readonly timeoutMs: number | undefined,
    readonly previous: PreviousState,
  ) {
    super(origin);
  }

  /** Builds the dataset in the driver: inputs not yet placed by `partitioner` are shuffled to it. */
  static create(inputs: MapWithStateInputs): MapWithStateDataset {
    const { ctx, scope } = inputs.data.driverContext();
    const { partitioner } = inputs;
    const placed = (ds: Dataset<any>): Dependency =>
      ds.isPlacedBy(partitioner)
        ? new OneToOneDependency(ds)
        : new ShuffleDependency(ds, ctx.newShuffleId(), partitioner, true);
    const deps = inputs.previous
      ? [placed(inputs.previous.dataset), placed(inputs.data)]
      : [placed(inputs.data)];
    return new MapWithStateDataset(
      { ctx, scope, deps, numPartitions: partitioner.numPartitions, partitioner: partitioner.toSpec() },
      inputs.fnId,
      inputs.batchTime,
      inputs.timeoutMs,
      inputs.previous?.kind ?? 'none',
    );
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): MapWithStateDataset {
    const { fn, batchTime, timeoutMs, previous } = spec.args as {
      fn: string;
      batchTime: number;
      timeoutMs?: number;
      previous: PreviousState;
    };
    return new MapWithStateDataset({ spec }, fn, batchTime, timeoutMs, previous);
  }

  /**
   * The record of one computed partition, whether it is the live object (this process's memory) or came back
   * as JSON (a checkpoint in the block store), in which case the state map is rebuilt from its records.
   */
  static recordOf(partition: readonly unknown[]): MapWithStateRecord {
    const record = partition[0] as
      | MapWithStateRecord
      | { stateMap: StateRecord[]; mapped: unknown[] }
      | undefined;
    if (!record) return { stateMap: StateMap.empty(), mapped: [] };
    if (record.stateMap instanceof StateMap) return record as MapWithStateRecord;
    return { stateMap: StateMap.fromRecords(record.stateMap as StateRecord[]), mapped: record.mapped ?? [] };
  }

  protected args(): Record<string, unknown> {
    return {
      fn: this.fnId,
      batchTime: this.batchTime,
      previous: this.previous,
      ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
    };
  }

  async compute(partition: number, tc: TaskContext): Promise<MapWithStateRecord[]> {
    const hasPrevious = this.previous !== 'none';
    const dataDep = this.depSpecs[hasPrevious ? 1 : 0]!;
    const previous = await this.previousStateMap(partition, tc);
    // A snapshot writes the whole map anyway: write a flat one, which also ends the delta chain there. A batch
    // that stores only its changes (see `StateDelta`) keeps layering, so it costs what it touches.
    const persist = this.persistSpec;
    const checkpointing = persist !== undefined && inBlockStore(persist.level) && persist.delta === undefined;
    const stateMap = previous.nextGeneration(checkpointing);
    const fn = tc.fn(this.fnId);
    const state = new KeyState<unknown>();
    const mapped: unknown[] = [];
    const label = this.toString();
    for (const segment of await readDependency(dataDep, partition, tc)) {
      for (const record of segment) {
        try {
          const [key, value] = pairOf(record);
          const entry = stateMap.get(key);
          state.wrap(entry !== undefined, entry?.state);
          let out = fn(key, value, state, this.batchTime);
          if (out instanceof Promise) out = await out;
          if (out !== undefined) mapped.push(out);
          if (state.removed) stateMap.remove(key);
          // With a timeout, a key that received data counts as active even when its state did not change.
          else if (state.updated || (state.exists() && this.timeoutMs !== undefined)) {
            stateMap.put(key, state.get(), this.batchTime);
          }
        } catch (error) {
          tc.deadLetter(label, partition, this.fnId, record, error, this.origin);
        }
      }
    }
    if (this.timeoutMs !== undefined) await this.timeOut(stateMap, fn, state, mapped, partition, tc);
    return [{ stateMap, mapped }];
  }

  /** Gives every key idle since before `batchTime - timeoutMs` its last call, then removes it. */
  private async timeOut(
    stateMap: StateMap,
    fn: AnyFn,
    state: KeyState<unknown>,
    mapped: unknown[],
    partition: number,
    tc: TaskContext,
  ): Promise<void> {
    const threshold = this.batchTime - this.timeoutMs!;
    if (threshold <= stateMap.timedOutBeforeMs) return;
    const stale: Array<[unknown, StateEntry<unknown>]> = stateMap.updatedBetween(
      stateMap.timedOutBeforeMs,
      threshold,
    );
    for (const [key, entry] of stale) {
      try {
        state.wrap(true, entry.state, true);
        let out = fn(key, undefined, state, this.batchTime);
        if (out instanceof Promise) out = await out;
        if (out !== undefined) mapped.push(out);
      } catch (error) {
        tc.deadLetter(this.toString(), partition, this.fnId, [key, undefined], error, this.origin);
      }
      stateMap.remove(key);
    }
    stateMap.timedOutBeforeMs = threshold;
  }

  /** The state map the batch starts from: the previous batch's, one built from initial pairs, or empty. */
  private async previousStateMap(partition: number, tc: TaskContext): Promise<StateMap> {
    if (this.previous === 'none') return StateMap.empty();
    const dep = this.depSpecs[0]!;
    if (this.previous === 'state') {
      return MapWithStateDataset.recordOf(await tc.partitionOf(dep.parent, partition)).stateMap;
    }
    const segments = await readDependency(dep, partition, tc);
    return StateMap.fromPairs(segments.flat() as Array<[unknown, unknown]>, this.batchTime);
  }
}

/** Partition p of a dependency: the shuffle's segments for p, or the parent's partition p in place. */
async function readDependency(dep: DependencySpec, partition: number, tc: TaskContext): Promise<unknown[][]> {
  return dep.type === 'shuffle'
    ? tc.shuffleRead(dep.shuffleId, partition)
    : [await tc.partitionOf(dep.parent, partition)];
}
