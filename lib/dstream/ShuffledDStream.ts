import type { Dataset } from '../dataset/Dataset';
import type { Partitioning } from '../dataset/DatasetOps';
import { checkPartitioning } from './checkPartitioning';
import { DStream } from './DStream';

/** combineByKey on every batch (Spark's ShuffledDStream); reduceByKey and groupByKey are made of it. */
export class ShuffledDStream<K, V, C> extends DStream<[K, C]> {
  private readonly fnIds: [string, string, string];

  constructor(
    private readonly parent: DStream<[K, V]>,
    fns: [string | ((v: V) => C), string | ((c: C, v: V) => C), string | ((a: C, b: C) => C)],
    private readonly partitioning: Partitioning | undefined,
    private readonly mapSideCombine: boolean,
    opName: 'reduceByKey' | 'groupByKey' | 'combineByKey' = 'combineByKey',
  ) {
    super(parent.ssc);
    // A string is a built-in's id (groupByKey's list functions); functions are registered in the graph.
    this.fnIds = fns.map((f) => (typeof f === 'string' ? f : this.ssc.graphScope.register(f))) as [
      string,
      string,
      string,
    ];
    // The op the user called, which a TypeScript job's errors and default output names show (`print(reduceByKey)`).
    this.name = opName;
    checkPartitioning(this, partitioning);
  }

  get dependencies() {
    return [this.parent];
  }

  get slideMs() {
    return this.parent.slideMs;
  }

  protected async compute(batchTime: number): Promise<Dataset<[K, C]> | undefined> {
    const ds = await this.parent.getOrCompute(batchTime);
    if (!ds) return undefined;
    const [create, merge, combine] = this.fnIds;
    return ds.combineByKey<K, V, C>(
      { fnId: create },
      { fnId: merge },
      { fnId: combine },
      // As Spark Streaming's defaultPartitioner(): the context's default parallelism, not the batch's partitioner.
      this.partitioning ?? this.ssc.defaultPartitions,
      this.mapSideCombine,
    );
  }
}
