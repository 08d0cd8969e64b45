import type { Dataset } from '../dataset/Dataset';
import { MapWithStateDataset, type MapWithStateRecord } from '../dataset/MapWithStateDataset';
import { type HashPartitioner, partitionerFor } from '../dataset/Partitioner';
import { DStream } from './DStream';
import { checkStateSettings, type StateSpec } from './StateSpec';

/**
 * The stream of mapWithState's mapped values (Spark's MapWithStateDStream). The state lives in an internal
 * stream whose partitions each hold one state map; this stream and `stateSnapshots` read it.
 *
 * @example
 * const counts = words.map((w) => [w, 1] as [string, number]).mapWithState({
 *   fn: (word, one, state: State<number>) => {
 *     const count = (state.exists() ? state.get() : 0) + (one ?? 0);
 *     state.update(count);
 *     return [word, count];
 *   },
 * });
 * counts.stateSnapshots().print();
 */
export class MapWithStateDStream<K, V, S, U> extends DStream<U> {
  private readonly internal: InternalMapWithStateDStream<K, V, S, U>;
  private readonly mappedFnId: string;

  constructor(parent: DStream<[K, V]>, spec: StateSpec<K, V, S, U>) {
    super(parent.ssc);
    this.name = 'mapWithState';
    this.internal = new InternalMapWithStateDStream(parent, spec);
    this.mappedFnId = this.ssc.graphScope.register(
      (records: unknown[]) => MapWithStateDataset.recordOf(records).mapped,
    );
  }

  get dependencies() {
    return [this.internal];
  }

  get slideMs() {
    return this.internal.slideMs;
  }

  /** Checkpoints the state, which is what grows a lineage (Spark's MapWithStateDStream does the same). */
  override checkpoint(intervalMs: number): this {
    this.internal.checkpoint(intervalMs);
    return this;
  }

  /** Every key and its state after each batch, as `[key, state]` records (a full scan of the state). */
  stateSnapshots(): DStream<[K, S]> {
    const snapshots = this.internal.mapPartitions(
      (records) => MapWithStateDataset.recordOf(records).stateMap.pairs() as [K, S][],
    );
    snapshots.name = 'stateSnapshots';
    return snapshots;
  }

  protected async compute(batchTime: number): Promise<Dataset<U> | undefined> {
    const state = await this.internal.getOrCompute(batchTime);
    return state?.mapPartitions<U>({ fnId: this.mappedFnId });
  }
}

/**
 * The state behind mapWithState (Spark's InternalMapWithStateDStream): state(t) is computed from
 * state(t − slide), read in place from memory, and the batch's records, shuffled to the state's partitioner.
 * It is persisted in memory and checkpointed (by default every ~10 s); a checkpoint writes each state map as
 * `[key, state, lastUpdatedMs]` records.
 */
class InternalMapWithStateDStream<K, V, S, U> extends DStream<MapWithStateRecord<K, S, U>> {
  private readonly fnId: string;
  private readonly partitioner: HashPartitioner;

  constructor(
    private readonly parent: DStream<[K, V]>,
    private readonly spec: StateSpec<K, V, S, U>,
  ) {
    super(parent.ssc);
    checkStateSettings('mapWithState', spec?.fn, spec?.initialState, spec?.timeoutMs);
    this.name = 'mapWithState(state)';
    this.partitioner = partitionerFor(spec.partitions, this.ssc.defaultPartitions);
    this.fnId = this.ssc.graphScope.register(spec.fn);
    this.persist('memory');
    this.mustCheckpoint = true;
    this.stateDeltaKind = 'stateMap';
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

  protected async compute(batchTime: number): Promise<Dataset<MapWithStateRecord<K, S, U>> | undefined> {
    const data = (await this.parent.getOrCompute(batchTime)) ?? this.ssc.emptyDataset<[K, V]>();
    const previousState = await this.getOrCompute(batchTime - this.slideMs);
    const previous = previousState
      ? ({ kind: 'state', dataset: previousState } as const)
      : this.spec.initialState && ({ kind: 'pairs', dataset: this.spec.initialState } as const);
    return MapWithStateDataset.create({
      data: data as Dataset<[unknown, unknown]>,
      previous,
      partitioner: this.partitioner,
      fnId: this.fnId,
      batchTime,
      timeoutMs: this.spec.timeoutMs,
    }) as Dataset<any>;
  }
}
