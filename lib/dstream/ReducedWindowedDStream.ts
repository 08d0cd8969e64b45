import type { Dataset } from '../dataset/Dataset';
import type { Partitioning } from '../dataset/DatasetOps';
import { ParallelDataset } from '../dataset/ParallelDataset';
import { type HashPartitioner, partitionerFor } from '../dataset/Partitioner';
import { unionOf } from '../dataset/unionOf';
import { DStream } from './DStream';
import { validateWindow } from './WindowedDStream';

type Reduce<V> = (a: V, b: V) => V;

/**
 * reduceByKeyAndWindow with an inverse function (Spark's ReducedWindowedDStream). Each window is computed from
 * the previous one: the batches that left the window are taken out with the inverse function and the batches
 * that entered are added, so the work follows the batches entering and leaving, not the window's length. As in
 * Spark, keys whose value went back to zero stay until the filter removes them. Each window depends on the
 * previous one, so the stream is persisted and checkpointed to keep its lineage short.
 */
export class ReducedWindowedDStream<K, V> extends DStream<[K, V]> {
  private readonly reduced: DStream<[K, V]>;
  private readonly partitioner: HashPartitioner;
  private readonly mergeId: string;
  private readonly filterId: string | undefined;

  constructor(
    parent: DStream<[K, V]>,
    reduceFn: Reduce<V>,
    invReduceFn: Reduce<V>,
    readonly windowMs: number,
    private readonly slide: number,
    partitioning: Partitioning | undefined,
    filterFn: ((pair: [K, V]) => boolean) | undefined,
  ) {
    super(parent.ssc);
    this.name = 'reduceByKeyAndWindow'; // before the check: a TypeScript job's origin names the op by it
    validateWindow(parent, windowMs, slide, this.origin);
    this.partitioner = partitionerFor(partitioning, this.ssc.defaultPartitions);
    this.reduced = parent.reduceByKey(reduceFn, this.partitioner).persist('memory');
    this.mergeId = this.ssc.graphScope.register(([previous, old, entering]: [V[], V[], V[]]) => {
      if (previous.length === 0) return entering.length === 0 ? [] : [entering.reduce(reduceFn)];
      let value: V = previous[0] as V;
      if (old.length > 0) value = invReduceFn(value, old.reduce(reduceFn));
      if (entering.length > 0) value = reduceFn(value, entering.reduce(reduceFn));
      return [value];
    });
    this.filterId = filterFn ? this.ssc.graphScope.register(filterFn) : undefined;
    this.persist('memory');
    this.mustCheckpoint = true;
  }

  override resumeSettings(): string {
    return `a window of ${this.windowMs} ms in ${this.partitioner.numPartitions} partitions`;
  }

  get dependencies() {
    return [this.reduced];
  }

  get slideMs() {
    return this.slide;
  }

  override aheadOfSlide(batchTime: number): DStream<any> | undefined {
    return this.windowParentAhead(this.reduced, this.windowMs, batchTime);
  }

  protected override parentRememberMs(): number {
    return this.rememberMs + this.windowMs;
  }

  /**
   * The next window, at t, reads the batches entering it, up to t, and those that left it since the window
   * before, from t − slide − window on (a slide longer than the window: only its own batches).
   */
  override parentKeepAfter(keepAfter: number): number {
    const next = this.nextTimeAfter(keepAfter);
    return this.incremental ? next - this.slide - this.windowMs : next - this.windowMs;
  }

  /**
   * Whether a window is computed from the previous one. As in Spark, a window as long as its slide is: the
   * batches that leave it are exactly the previous window's, so its keys stay, at zero, until the filter removes
   * them. A longer slide skips batches between windows, which Spark's formula counts in a key the previous window
   * lacks (its first window holds batches outside it): such a window is reduced afresh from its own batches.
   */
  private get incremental(): boolean {
    return this.slide <= this.windowMs;
  }

  /** Built from its previous dataset: after a restart, the stored one is read back (see `restoredPartitioner`). */
  protected override restoredPartitioner(): HashPartitioner {
    return this.partitioner;
  }

  protected async compute(batchTime: number): Promise<Dataset<[K, V]>> {
    const parentSlide = this.reduced.slideMs;
    const currentBegin = batchTime - this.windowMs + parentSlide;
    const previousEnd = batchTime - this.slide;
    const incremental = this.incremental;
    const old = incremental
      ? await this.reduced.slice(previousEnd - this.windowMs + parentSlide, currentBegin - parentSlide)
      : [];
    const entering = await this.reduced.slice(
      incremental ? previousEnd + parentSlide : currentBegin,
      batchTime,
    );
    const previous = (incremental ? await this.getOrCompute(previousEnd) : undefined) ?? this.empty();
    const merged = previous
      .cogroup([unionOf(old) ?? this.empty(), unionOf(entering) ?? this.empty()], this.partitioner)
      .flatMapValues({ fnId: this.mergeId }) as Dataset<[K, V]>;
    return this.filterId ? merged.filter({ fnId: this.filterId }) : merged;
  }

  private empty(): Dataset<[K, V]> {
    return new ParallelDataset<[K, V]>(
      {
        ctx: this.ssc,
        scope: this.ssc.graphScope,
        deps: [],
        numPartitions: this.partitioner.numPartitions,
        partitioner: this.partitioner.toSpec(),
      },
      [],
    );
  }
}
