import type { Dataset } from '../dataset/Dataset';
import type { Partitioning } from '../dataset/DatasetOps';
import { FnScope } from '../dataset/FnScope';
import type { HashPartitioner } from '../dataset/Partitioner';
import { DStream } from './DStream';
import { checkStateSettings, statePartitioner } from './StateSpec';

/** updateStateByKey's function: the key's new values (maybe none) and its state; undefined removes the key. */
export type UpdateFn<V, S> = (values: V[], state: S | undefined) => S | undefined;

/** The time-aware variant, which also gets the key and the batch time. */
export type TimeAwareUpdateFn<K, V, S> = (
  values: V[],
  state: S | undefined,
  context: { readonly key: K; readonly batchTime: number },
) => S | undefined;

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
 * A function that throws fails the batch.
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
    this.partitioner = statePartitioner(options.partitions, this.ssc.defaultPartitions);
    if (options.timeAware) {
      // The batch time is bound into a function of the batch's own scope; workers re-create it on demand.
      const pattern = new RegExp(`^${this.id}@(\\d+)/`);
      this.ssc.functions.addDeriver((id) => {
        const match = pattern.exec(id);
        if (match) this.updateAt(Number(match[1]));
        return match !== null;
      });
    } else {
      this.fnId = this.ssc.graphScope.register((groups: [K, [V[], S[]?]][]) =>
        this.update(groups, undefined),
      );
    }
    this.persist('memory');
    this.mustCheckpoint = true;
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<[K, S]> | undefined> {
    const data = (await this.parent.getOrCompute(batchTime)) ?? this.ssc.parallelize<[K, V]>([]);
    const previous = (await this.getOrCompute(batchTime - this.slideMs)) ?? this.options.initialState;
    const groups = data.cogroup(previous ? [previous] : [], this.partitioner);
    return groups.mapPartitions<[K, S]>({ fnId: this.fnId ?? this.updateAt(batchTime) }, true);
  }

  protected override forget(batchTime: number): void {
    if (this.options.timeAware) this.ssc.functions.deleteScope(`${this.id}@${batchTime}`);
  }

  /** Registers the time-aware update of one batch and returns its id. */
  private updateAt(batchTime: number): string {
    return new FnScope(this.ssc.functions, `${this.id}@${batchTime}`).register((groups: [K, [V[], S[]?]][]) =>
      this.update(groups, batchTime),
    );
  }

  /** Applies the update to every cogrouped `[key, [values, [state]]]`; keys it returns undefined for go. */
  private update(groups: [K, [V[], S[]?]][], batchTime: number | undefined): [K, S][] {
    const out: [K, S][] = [];
    for (const [key, [values, states]] of groups) {
      const state = states?.[0];
      const next =
        batchTime === undefined
          ? (this.updateFn as UpdateFn<V, S>)(values, state)
          : (this.updateFn as TimeAwareUpdateFn<K, V, S>)(values, state, { key, batchTime });
      if (next !== undefined) out.push([key, next]);
    }
    return out;
  }
}
