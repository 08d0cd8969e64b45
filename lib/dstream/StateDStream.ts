import type { Dataset } from '../dataset/Dataset';
import type { Partitioning } from '../dataset/DatasetOps';
import { FnScope } from '../dataset/FnScope';
import { type HashPartitioner, partitionerFor } from '../dataset/Partitioner';
import { DStream } from './DStream';
import { checkStateSettings } from './StateSpec';

/**
 * updateStateByKey's function: the key's new values (maybe none) and its state; undefined or null removes the key
 * (Spark's `None`).
 */
export type UpdateFn<V, S> = (values: V[], state: S | undefined) => S | undefined | null;

/** The time-aware variant, which also gets the key and the batch time. */
export type TimeAwareUpdateFn<K, V, S> = (
  values: V[],
  state: S | undefined,
  context: { readonly key: K; readonly batchTime: number },
) => S | undefined | null;

/** Settings of updateStateByKey. */
export interface UpdateStateOptions<K, S> {
  /** Partitions of the state, or its partitioner. Default: the context's `defaultPartitions`. */
  readonly partitions?: Partitioning;
  /** The state before the first batch, as `[key, state]` pairs (`ssc.parallelize([...])`). Default: none. */
  readonly initialState?: Dataset<[K, S]>;
  /** Call the function with `{ key, batchTime }` as a third argument. Default false. */
  readonly timeAware?: boolean;
}

/**
 * updateStateByKey (Spark's StateDStream): state(t) = the batch's records cogrouped with state(t − slide),
 * then the update function applied to every key that has state or new values. The state keeps its
 * partitioner, so the next batch's cogroup reads it in place and only the new records are shuffled. It is
 * persisted in memory and checkpointed (by default every ~10 s), because its lineage grows every batch.
 * A function that throws on a key's values dead-letters the values it refuses, as `[key, value]` records, and
 * keeps the key's state as it was (see `updateKey`); the other keys go on, so one bad record is never a poison
 * pill that fails the batch on every restart.
 */
export class StateDStream<K, V, S> extends DStream<[K, S]> {
  private readonly partitioner: HashPartitioner;
  /** The update's id, for the plain variant; the time-aware one registers one function per batch. */
  private readonly fnId: string | undefined;

  constructor(
    private readonly parent: DStream<[K, V]>,
    private readonly updateFn: UpdateFn<V, S> | TimeAwareUpdateFn<K, V, S>,
    private readonly options: UpdateStateOptions<K, S> = {},
  ) {
    super(parent.ssc);
    checkStateSettings('updateStateByKey', updateFn, options.initialState);
    this.name = 'updateStateByKey';
    this.partitioner = partitionerFor(options.partitions, this.ssc.defaultPartitions);
    if (options.timeAware) {
      // The batch time is bound into a function of the batch's own scope; workers re-create it on demand.
      const pattern = new RegExp(`^${this.id}@(\\d+)/`);
      this.ssc.functions.addDeriver((id) => {
        const match = pattern.exec(id);
        if (match) this.updateAt(Number(match[1]));
        return match !== null;
      });
    } else {
      this.fnId = this.ssc.graphScope.register(
        (groups: [K, [V[], S[]?]][], _partition: number, fail: DeadLetterFn) =>
          this.update(groups, undefined, fail),
      );
    }
    this.persist('memory');
    this.mustCheckpoint = true;
    this.stateDeltaKind = 'pairs';
  }

  override resumeSettings(): string {
    return `${this.partitioner.numPartitions} partitions`;
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  /** Built from its previous dataset: after a restart, the stored one is read back (see `restoredPartitioner`). */
  protected override restoredPartitioner(): HashPartitioner {
    return this.partitioner;
  }

  protected async compute(batchTime: number): Promise<Dataset<[K, S]> | undefined> {
    const data = (await this.parent.getOrCompute(batchTime)) ?? this.ssc.emptyDataset<[K, V]>();
    const previous = (await this.getOrCompute(batchTime - this.slideMs)) ?? this.options.initialState;
    const groups = data.cogroup(previous ? [previous] : [], this.partitioner);
    return groups.mapPartitions<[K, S]>({ fnId: this.fnId ?? this.updateAt(batchTime) }, true);
  }

  protected override forget(batchTime: number): void {
    if (this.options.timeAware) this.ssc.functions.deleteScope(`${this.id}@${batchTime}`);
  }

  /** Registers the time-aware update of one batch and returns its id. */
  private updateAt(batchTime: number): string {
    return new FnScope(this.ssc.functions, `${this.id}@${batchTime}`).register(
      (groups: [K, [V[], S[]?]][], _partition: number, fail: DeadLetterFn) =>
        this.update(groups, batchTime, fail),
    );
  }

  /**
   * Applies the update to every cogrouped `[key, [values, [state]]]`; keys it returns undefined or null for go. Both
   * remove, as Spark's `None` does: JavaScript has two words for "no value", and a key kept at null would be a
   * `[key, null]` record every batch from then on, which no Spark user expects of returning "nothing".
   */
  private update(groups: [K, [V[], S[]?]][], batchTime: number | undefined, fail: DeadLetterFn): [K, S][] {
    const out: [K, S][] = [];
    for (const [key, [values, states]] of groups) {
      const state = states?.[0];
      const next = this.updateKey(key, values, state, batchTime, fail);
      if (next !== undefined && next !== null) out.push([key, next]);
    }
    return out;
  }

  /**
   * One key's new state. When the function throws, the values it refuses on their own are the bad records:
   * they are dead-lettered and the function is called once more with the others, so a good value counts
   * exactly as it would have without the bad one. When it still throws, every value of the key is
   * dead-lettered; either way a failed call leaves the key's state as it was.
   */
  private updateKey(
    key: K,
    values: V[],
    state: S | undefined,
    batchTime: number | undefined,
    fail: DeadLetterFn,
  ): S | undefined | null {
    const apply = (vs: V[]) =>
      batchTime === undefined
        ? (this.updateFn as UpdateFn<V, S>)(vs, state)
        : (this.updateFn as TimeAwareUpdateFn<K, V, S>)(vs, state, { key, batchTime });
    try {
      return apply(values);
    } catch (error) {
      if (values.length === 0) {
        fail([key, undefined], error);
        return state;
      }
      if (values.length === 1) {
        fail([key, values[0]], error);
        return state;
      }
      const good = values.filter((value) => {
        try {
          apply([value]);
          return true;
        } catch (alone) {
          fail([key, value], alone);
          return false;
        }
      });
      let refused = error; // every value passed on its own: it is their combination the function refused
      if (good.length < values.length) {
        try {
          return apply(good);
        } catch (again) {
          refused = again;
        }
      }
      for (const value of good) fail([key, value], refused);
      return state;
    }
  }
}

/** How a partition function reports a record it could not process (see `MapPartitionsDataset`). */
type DeadLetterFn = (record: unknown, error: unknown) => void;
