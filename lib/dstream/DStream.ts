import type { Dataset } from '../dataset/Dataset';
import { ambientOpOrigin, nameFailure, userCallSite } from '../dataset/OpOrigin';
import type { HashPartitioner } from '../dataset/Partitioner';
import { PersistedDataset } from '../dataset/PersistedDataset';
import {
  inBlockStore,
  persistBlockKey,
  STORAGE_LEVELS,
  type StorageLevel,
  streamPersistKey,
} from '../dataset/StorageLevel';
import { StreamGraphError } from '../errors';
import type { ValueShape } from '../executor/ValueShape';
import type { StreamingContext } from '../StreamingContext';

/**
 * Spark's DStream: a stream is a sequence of datasets, one per batch. The base owns the machinery — the
 * per-batch cache (`getOrCompute`), how long old batches are remembered, and their cleanup — so that each
 * operator only states its parents, its slide interval, and how to compute its dataset for a batch time.
 * Transformations and outputs are added in `DStreamOps`.
 */
export abstract class DStream<T = unknown> {
  /** The node's stable id in the graph (`n3`): the same in every process that builds the job. */
  readonly id: string;
  /** A human name for logs and errors (the JSON stream name, or the operation). */
  name: string;
  /** The time of the batch before the first one (0). */
  protected zeroTime: number | undefined;
  /**
   * How long after its batch a dataset may still be read (by windows, or `slice`): memory copies are kept that
   * long. At least the slide once started, as Spark's remember duration, so the previous batch can still be read.
   * What is forgotten, and when, follows `DStreamGraph.clearMetadata`.
   */
  rememberMs = 0;
  /**
   * What the values of this stream's `[key, value]` records stand for in Spark's types, so that `print` and
   * `saveAsTextFiles` show them as Spark does (see `ValueShape`): groups (`groupByKey`, `cogroup`) as
   * `CompactBuffer(…)`, an outer join's sides as `Some(…)` or `None`. Set by the ops that make them and kept by those
   * that pass records on as they are (filter, window, repartition, a union of streams alike, subtractByKey); `plain`
   * (the default, and after an op whose function makes the values, a map included): a value prints as it is. The
   * records themselves are plain JSON, which functions see unchanged.
   */
  valueShape: ValueShape = 'plain';
  /** How generated datasets are kept once computed (Spark's persist); undefined: not kept. */
  storageLevel: StorageLevel | undefined;
  /** Every this many ms of stream time, the dataset is also written to the block store, cutting its lineage. */
  checkpointIntervalMs: number | undefined;
  /** Stateful streams must checkpoint: their lineage grows by one step every batch. */
  protected mustCheckpoint = false;
  /**
   * Set by state streams (updateStateByKey, mapWithState): a batch between checkpoints that goes to the block
   * store writes only what changed since the previous batch, a delta (see `StateDelta`); checkpoints write
   * full snapshots, from which a recovery applies the deltas after them.
   */
  protected stateDeltaKind: 'pairs' | 'stateMap' | undefined;
  private readonly generated = new Map<number, Promise<Dataset<T> | undefined>>();
  /** The datasets of `generated` once computed, for what is done with them when they are forgotten. */
  private readonly computed = new Map<number, Dataset<T>>();
  /** The newest batch time whose dataset this process forgot (see `clearMetadata`); none yet: -Infinity. */
  private forgottenThroughMs = Number.NEGATIVE_INFINITY;

  /** Where the op that made this stream was written: set by the job document builder, else the call site. */
  private readonly opOrigin: string | undefined;
  protected readonly callSite: string | undefined;

  protected constructor(readonly ssc: StreamingContext) {
    this.id = ssc.graph.addNode(this);
    this.name = this.constructor.name;
    this.opOrigin = ambientOpOrigin();
    // Once per stream, while the graph is built: what a failing task of this stream names in a TypeScript job.
    this.callSite = this.opOrigin === undefined ? userCallSite() : undefined;
  }

  /**
   * Where the op that made this stream was written (see `OpOrigin`): `streams.counts.ops[2] (reduceByKey)` in a
   * job document, `job.ts:14 (map)` in a TypeScript job. Its datasets carry it to the tasks.
   */
  get origin(): string | undefined {
    return this.opOrigin ?? (this.callSite === undefined ? undefined : `${this.callSite} (${this.name})`);
  }

  /**
   * What a restart must find unchanged besides the stream's kind and slide: a stream built from its own previous
   * dataset (state, an incremental window) names the settings its checkpointed datasets were computed with
   * (`3 partitions`), since resuming them under others would put keys in the wrong partitions or subtract batches
   * that never entered the window. Undefined for the others, which a restart computes from their parents.
   */
  resumeSettings(): string | undefined {
    return undefined;
  }

  /** The streams this one is computed from. */
  abstract get dependencies(): readonly DStream<any>[];

  /** The interval at which this stream produces datasets, in milliseconds. */
  abstract get slideMs(): number;

  /** The dataset for one batch time, or undefined when the stream has nothing at that time. */
  protected abstract compute(batchTime: number): Promise<Dataset<T> | undefined>;

  /** The dataset for `batchTime`, computed once and cached until it is no longer remembered. */
  getOrCompute(batchTime: number): Promise<Dataset<T> | undefined> {
    let dataset = this.generated.get(batchTime);
    if (dataset === undefined) {
      if (!this.isTimeValid(batchTime)) return Promise.resolve(undefined);
      // Only `slice` asks for a batch the stream forgot, past what `ssc.remember` keeps. Spark computes it again;
      // so does Sluice where that gives the batch's own records, but a source that cannot replay a batch would put
      // the records arriving now into it, taking them from the batch they belong to.
      if (this.forgot(batchTime) && !this.recomputesForgotten())
        return Promise.reject(this.forgottenError(batchTime));
      dataset = this.restoredOrComputed(batchTime).then(
        (ds) => {
          const origin = this.origin;
          if (ds && origin !== undefined) ds.tagOrigin(origin);
          ds?.nameGeneration(this.id, batchTime);
          if (ds) this.computed.set(batchTime, ds);
          return this.keep(ds, batchTime);
        },
        (error: unknown) => {
          // A failure in the driver (a transform function, a parent without a dataset) names this op too.
          throw nameFailure(error, this.origin);
        },
      );
      this.generated.set(batchTime, dataset);
    }
    return dataset;
  }

  /** Records that the stream forgot its batch at `batchTime` (see `forgot`). */
  protected markForgotten(batchTime: number): void {
    this.forgottenThroughMs = Math.max(this.forgottenThroughMs, batchTime);
  }

  /** True when this process computed the stream's batch at `batchTime` and then forgot it (see `clearMetadata`). */
  protected forgot(batchTime: number): boolean {
    return batchTime <= this.forgottenThroughMs;
  }

  /** Whether a batch this stream forgot may be computed again; an input whose source cannot replay it says no. */
  protected recomputesForgotten(): boolean {
    return true;
  }

  /** Why a forgotten batch is not computed again, with the way to keep it (`ssc.remember`). */
  private forgottenError(batchTime: number): StreamGraphError {
    const keptFrom = this.nextTimeAfter(this.forgottenThroughMs);
    return new StreamGraphError(
      `stream ${this.name} no longer holds its batch of ${batchTime} ms (only those from ${keptFrom} ms on), and its source cannot give a batch again: asking it now would put the records arriving now into that batch. To read older batches with slice, keep them with ssc.remember(ms), as in Spark`,
      this.origin,
    );
  }

  /**
   * The dataset a restart found stored for `batchTime`, read back from the block store with no lineage, for a stream
   * that says how its datasets are placed (see `restoredPartitioner`); else computed.
   */
  private restoredOrComputed(batchTime: number): Promise<Dataset<T> | undefined> {
    const partitioner = this.restoredPartitioner();
    const numPartitions = partitioner && this.ssc.persistence.restoredPartitions(this.persistKey(batchTime));
    if (partitioner === undefined || numPartitions === undefined) return this.compute(batchTime);
    const stored = new PersistedDataset({
      ctx: this.ssc,
      scope: this.ssc.graphScope,
      deps: [],
      numPartitions,
      partitioner: partitioner.toSpec(),
    });
    return Promise.resolve(stored as unknown as Dataset<T>);
  }

  /**
   * How a stream built from its own previous dataset (state, an incremental window) places its datasets, so that a
   * restart reads the stored one back (see `restoredOrComputed`) with the partitioner its next batch's cogroup reads
   * in place; undefined for the others, which compute theirs. Computing it instead built that lineage back to the
   * job's first batch, in driver time and memory that grow with the job's age, and on Lambda every coordinator
   * invocation restarts. Spark puts its restored checkpoint RDDs in `generatedRDDs` for the same reason.
   */
  protected restoredPartitioner(): HashPartitioner | undefined {
    return undefined;
  }

  /** Keeps this stream's datasets once computed, at the given level; default `memory` (Spark's persist). */
  persist(level: StorageLevel = 'memory'): this {
    if (!STORAGE_LEVELS.includes(level)) {
      throw new RangeError(
        `storage level must be one of ${STORAGE_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
      );
    }
    this.storageLevel = level;
    return this;
  }

  /** `persist('memory')`. */
  cache(): this {
    return this.persist('memory');
  }

  /** Writes the dataset to the block store every `intervalMs` of stream time (a multiple of the slide). */
  checkpoint(intervalMs: number): this {
    if (!Number.isInteger(intervalMs) || intervalMs <= 0 || intervalMs % this.slideMs !== 0) {
      const message = `checkpoint interval of ${intervalMs} ms must be a positive multiple of ${this.describeSlide()}`;
      // The job document builder sets the stream's own path around its settings; elsewhere, the last op's.
      throw new StreamGraphError(message, ambientOpOrigin() ?? this.origin, [
        { field: 'checkpointIntervalMs', message, value: intervalMs },
      ]);
    }
    this.checkpointIntervalMs = intervalMs;
    return this;
  }

  /**
   * This stream's slide and what set it, for errors about multiples of it: the batch interval, or the op up the
   * chain that windowed it (`the slide of 2000 ms set by streams.w.ops[0] (window)`).
   */
  describeSlide(): string {
    let setter: DStream<any> = this;
    // A loop, not recursion: a long chain of ops must not overflow the stack.
    for (
      let up = setter.dependencies[0];
      up !== undefined && up.slideMs === this.slideMs;
      up = setter.dependencies[0]
    )
      setter = up;
    return setter.dependencies.length === 0
      ? `the batch interval of ${this.slideMs} ms`
      : `the slide of ${this.slideMs} ms set by ${setter.origin ?? setter.name}`;
  }

  private isCheckpointTime(batchTime: number): boolean {
    return (
      this.checkpointIntervalMs !== undefined &&
      (batchTime - this.zeroTime!) % this.checkpointIntervalMs === 0
    );
  }

  /** Marks a fresh dataset for persistence or checkpointing, with a key stable across restarts. */
  private keep(ds: Dataset<T> | undefined, batchTime: number): Dataset<T> | undefined {
    if (!ds) return ds;
    const checkpoint = this.isCheckpointTime(batchTime);
    if (!this.storageLevel && !checkpoint) return ds;
    const level: StorageLevel = checkpoint
      ? this.storageLevel && this.storageLevel !== 'blockStore'
        ? 'memoryAndBlockStore'
        : 'blockStore'
      : this.storageLevel!;
    const previous = this.computed.get(batchTime - this.slideMs);
    // A state dataset read back after a restart may be a delta (one between checkpoints always is, but for the
    // job's first batch): marked so, its reader applies the block's chain, and cleanup keeps the snapshot under it.
    // It is never computed here, so it has no base to take a delta against (`baseDatasetId` -1).
    const restored = ds instanceof PersistedDataset && this.isTimeValid(batchTime - this.slideMs);
    const delta =
      this.stateDeltaKind && !checkpoint && (previous || restored)
        ? {
            kind: this.stateDeltaKind,
            base: this.persistKey(batchTime - this.slideMs),
            baseDatasetId: previous?.id ?? -1,
          }
        : undefined;
    return ds.setPersist({
      key: this.persistKey(batchTime),
      level,
      untilMs: batchTime + this.rememberMs,
      ...(delta ? { delta } : {}),
    });
  }

  /** The persistence key of this stream's dataset at `batchTime`. */
  persistKey(batchTime: number): string {
    return streamPersistKey(this.id, batchTime);
  }

  /** True when the stream produces a dataset at `batchTime` (a multiple of its slide after the start). */
  isTimeValid(batchTime: number): boolean {
    if (this.zeroTime === undefined) throw new Error(`stream ${this.name} has not been started`);
    return batchTime > this.zeroTime && (batchTime - this.zeroTime) % this.slideMs === 0;
  }

  /** Sets the start time on this stream and its parents. */
  initialize(zeroTime: number): void {
    if (this.zeroTime === zeroTime) return;
    this.zeroTime = zeroTime;
    for (const parent of this.dependencies) parent.initialize(zeroTime);
  }

  /** Keeps generated datasets for at least `ms`, and tells the parents what that means for them. */
  remember(ms: number): void {
    // A checkpointed stream keeps its datasets until the next checkpoint is written, as Spark's does.
    this.rememberMs = Math.max(this.rememberMs, ms, this.slideMs, this.checkpointIntervalMs ?? 0);
    for (const parent of this.dependencies) parent.remember(this.parentRememberMs());
  }

  /** How long parents must remember their datasets for this stream; windows ask for more. */
  protected parentRememberMs(): number {
    return this.rememberMs;
  }

  /**
   * The newest batch time this stream may forget once every batch up to `lastCompletedBatch` is done, given the
   * newest its consumers may lose (`neededAfter`, what computing their batches reads, `ssc.remember` included) and
   * the newest they may lose with the batches they remember read too (`rememberedAfter`). A stream remembers at
   * least its slide, Spark's default remember duration, so that it still holds its newest batch when the next one
   * runs: a `slice` or a transform reading the previous batch works without `ssc.remember`.
   *
   * A stream rebuilt from its state checkpoints keeps the newest one at or before the bound and every batch after
   * it (see `clearMetadata`), which holds its previous batch except right after a checkpoint. It follows what its
   * consumers need only: holding a consumer's remembered batch recomputable would keep the checkpoint before, its
   * deltas and the input blocks back to it, a checkpoint interval more, where Spark keeps that batch in memory.
   */
  forgetBound(
    lastCompletedBatch: number,
    minRememberMs: number,
    neededAfter: number,
    rememberedAfter: number,
  ): number {
    if (this.mustCheckpoint) return neededAfter;
    return Math.min(neededAfter, rememberedAfter, lastCompletedBatch - Math.max(minRememberMs, this.slideMs));
  }

  /**
   * Forgets this stream's datasets that neither the running job nor a restart from the metadata checkpoint
   * just written can read again, and returns the newest batch time of the parents' datasets that computing
   * this stream's remaining batches does not need (the scheduler's graph walk passes it on to the parents).
   *
   * `keepAfter` is the newest batch time of this stream that no consumer needs: every batch up to the last
   * completed one is done, so only later ones are computed again. A stream whose dataset is built from its
   * own previous one (incremental windows, state) is the exception: the next batch, and a restart, rebuild it
   * from its newest state checkpoint at or before `keepAfter`, so it keeps that checkpoint and every batch
   * after it, and its parents keep what recomputing those batches reads. Older checkpoints and datasets go.
   */
  clearMetadata(keepAfter: number): number {
    for (const ds of this.computed.values()) {
      if (ds.persistSpec && this.ssc.persistence.status(ds.persistSpec.key) === 'stored')
        ds.markCheckpointed();
    }
    const from = this.mustCheckpoint ? this.newestStoredAtOrBefore(keepAfter) : keepAfter;
    const forgets = (time: number) => (this.mustCheckpoint ? time < from : time <= keepAfter);
    for (const time of [...this.generated.keys()]) {
      if (forgets(time)) {
        this.markForgotten(time);
        this.generated.delete(time);
        this.unpersist(time, this.computed.get(time));
        this.computed.delete(time);
        this.forget(time);
      }
    }
    // What the run before a restart stored of a batch this stream forgets now (or forgot before), and this run did
    // not compute again: its own dataset, or one its body persisted (see `PersistenceTracker.restoredDatasets`).
    for (const { key, batchTime, numPartitions } of this.ssc.persistence.restoredDatasets(this.id))
      if (forgets(batchTime)) this.dropPersisted(key, true, numPartitions);
    return this.parentKeepAfter(from);
  }

  /**
   * The newest of the parents' batch times that computing this stream's batches after `keepAfter` does not
   * read; a window reads back its length.
   */
  parentKeepAfter(keepAfter: number): number {
    return keepAfter;
  }

  /** The first batch time of this stream after `time`. */
  protected nextTimeAfter(time: number): number {
    const zero = this.zeroTime ?? 0;
    return zero + (Math.floor((time - zero) / this.slideMs) + 1) * this.slideMs;
  }

  /**
   * The newest batch at or before `time` whose dataset is all in the block store as a full snapshot (a state
   * delta needs the snapshot and deltas before it, so it is no place to restart from); the start when none is.
   */
  private newestStoredAtOrBefore(time: number): number {
    let newest = this.zeroTime ?? 0;
    for (const t of this.generated.keys()) {
      if (
        t <= time &&
        t > newest &&
        this.ssc.persistence.status(this.persistKey(t)) === 'stored' &&
        this.computed.get(t)?.persistSpec?.delta === undefined
      )
        newest = t;
    }
    return newest;
  }

  /**
   * Drops what persistence kept of a forgotten batch's dataset, tracker entries and block-store copies, whoever
   * persisted it: this stream, or a body it was handed to (`rdd.persist()` inside foreachRDD, named by that body:
   * see `BodyPersistence`), as Spark's `clearMetadata` unpersists every RDD a stream generated.
   */
  private unpersist(batchTime: number, ds: Dataset<T> | undefined): void {
    const key = this.persistKey(batchTime);
    if (this.storageLevel || this.checkpointIntervalMs !== undefined) {
      // The level the dataset was given, which the runtime may have backed with the store.
      const level = ds?.persistSpec?.level ?? this.storageLevel;
      const inStore = (level && inBlockStore(level)) || this.isCheckpointTime(batchTime);
      this.dropPersisted(key, inStore, ds?.numPartitions);
    }
    const spec = ds?.persistSpec;
    // Not a dataset another stream generated (a transform returning its parent's): that stream drops it.
    if (spec && spec.key !== key && ds.generatingStream === this.id)
      this.dropPersisted(spec.key, inBlockStore(spec.level), ds.numPartitions);
  }

  /**
   * Drops what persistence kept of the datasets a body of this stream persisted for a forgotten batch (see
   * `BodyPersistence`), as this stream's own are dropped. One that a stream generated (the transform's result) is
   * that stream's to drop, when it forgets its batch.
   */
  protected unpersistBody(datasets: readonly Dataset[]): void {
    for (const ds of datasets) {
      const spec = ds.persistSpec;
      if (spec && ds.generatingStream === undefined)
        this.dropPersisted(spec.key, inBlockStore(spec.level), ds.numPartitions);
    }
  }

  /** How long the stream that generated a dataset may read it again; for the bodies' `BodyPersistence`. */
  protected readonly rememberedUntil = (dataset: Dataset): number | undefined =>
    this.ssc.graph.rememberedUntil(dataset);

  /** Forgets a persisted dataset in the tracker and, when it went to the block store, deletes its blocks. */
  private dropPersisted(key: string, inStore: boolean, numPartitions: number | undefined): void {
    this.ssc.persistence.forget(key);
    if (!inStore) return;
    const store = this.ssc.env().store;
    // The partitions name their blocks' keys: deleting them needs no listing (on S3 a LIST is billed as a PUT,
    // and this runs every batch for every persisted stream).
    const keys =
      numPartitions === undefined
        ? undefined
        : Array.from({ length: numPartitions }, (_, p) => persistBlockKey(key, p));
    this.ssc.cleanup(
      this.ssc.deleteTaskWrites(() =>
        keys && store.deleteKeys ? store.deleteKeys(keys) : store.deletePrefix(`persist/${key}/`),
      ),
    );
  }

  /**
   * A persisted parent this stream will read at its next slide, when `batchTime` is a batch of that parent the
   * next window holds and this stream computes nothing now; the scheduler then computes it now, ahead of the
   * slide (see `JobScheduler`). Windows override it; other streams compute whatever they read in their own batch.
   */
  aheadOfSlide(_batchTime: number): DStream<any> | undefined {
    return undefined;
  }

  /** `aheadOfSlide` for a window of `windowMs` over `parent` (an input stream's blocks are stored already). */
  protected windowParentAhead(
    parent: DStream<any>,
    windowMs: number,
    batchTime: number,
  ): DStream<any> | undefined {
    if (this.zeroTime === undefined || parent.dependencies.length === 0) return undefined;
    if (this.isTimeValid(batchTime) || !parent.isTimeValid(batchTime)) return undefined;
    return batchTime > this.nextTimeAfter(batchTime) - windowMs ? parent : undefined;
  }

  /** Called when the dataset of `batchTime` is forgotten; inputs delete their blocks here. */
  protected forget(_batchTime: number): void {}

  /** The batch times whose datasets are held, oldest first (tests check cleanup with it). */
  get rememberedTimes(): number[] {
    return [...this.generated.keys()].sort((a, b) => a - b);
  }

  /** Checks the graph before the first batch; operators with constraints override it. */
  validateAtStart(): void {
    if (this.mustCheckpoint && this.checkpointIntervalMs === undefined) {
      // Spark's default: the smallest multiple of the slide that is at least 10 seconds.
      const wanted = this.ssc.checkpointIntervalMs ?? 10_000;
      this.checkpointIntervalMs = this.slideMs * Math.max(1, Math.ceil(wanted / this.slideMs));
    }
    for (const parent of this.dependencies) parent.validateAtStart();
  }
}
