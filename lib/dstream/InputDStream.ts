import { BlockDataset } from '../dataset/BlockDataset';
import type { Dataset } from '../dataset/Dataset';
import { sliceBounds } from '../dataset/Dataset';
import { DirectInputDataset } from '../dataset/DirectInputDataset';
import type { StreamingContext } from '../StreamingContext';
import type { InputBlockInfo } from '../scheduler/CheckpointData';
import { isDirectSource, type Source } from '../source/Source';
import { encodeSegments } from '../storage/SegmentedBlob';
import { DStream } from './DStream';

/**
 * A stream read from a source (Spark's InputDStream and its receiver). At each tick it takes the batch's
 * records from the source and stores them as one input block, split into partitions the way Spark splits a
 * collection: record i of n goes to partition ⌊i·p/n⌋-wise ranges [⌊j·n/p⌋, ⌊(j+1)·n/p⌋).
 */
export class InputDStream<T> extends DStream<T> {
  /** How many records each batch brought, for the batch metrics. */
  readonly recordsPerBatch = new Map<number, number>();
  /** The input block of each remembered batch, for the metadata checkpoint. */
  readonly blocks = new Map<number, InputBlockInfo>();
  private recovered = new Map<number, InputBlockInfo>();

  constructor(
    ssc: StreamingContext,
    readonly source: Source<T>,
    readonly partitions: number,
  ) {
    super(ssc);
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new RangeError(`an input stream needs a positive whole number of partitions, got ${partitions}`);
    }
    this.name = source.description;
    ssc.graph.addInput(this);
  }

  get dependencies() {
    return [];
  }

  get slideMs() {
    return this.ssc.batchIntervalMs;
  }

  /** After a restart: the blocks stored before the crash are reused instead of asking the source again. */
  restoreBlocks(blocks: Readonly<Record<string, InputBlockInfo>>): void {
    this.recovered = new Map(Object.entries(blocks).map(([t, info]) => [Number(t), info]));
  }

  protected async compute(batchTime: number): Promise<Dataset<T>> {
    const key = this.blockKey(batchTime);
    const { ctx, scope } = { ctx: this.ssc, scope: this.ssc.graphScope };
    const kept = this.recovered.get(batchTime);
    if (kept) {
      this.recovered.delete(batchTime);
      this.recordsPerBatch.set(batchTime, kept.records);
      this.blocks.set(batchTime, kept);
      return new BlockDataset<T>(
        { ctx, scope, deps: [], numPartitions: kept.offsets.length - 1 },
        key,
        kept.offsets,
      );
    }
    const source = this.source;
    if (isDirectSource(source)) {
      // The batch is an index range: tasks generate their partitions themselves, in parallel.
      const { first, end } = source.indexRange(batchTime, this.ssc.batchIntervalMs);
      this.recordsPerBatch.set(batchTime, end - first);
      return new DirectInputDataset<T>(
        { ctx, scope, deps: [], numPartitions: this.partitions },
        source.directSpec,
        first,
        end,
      );
    }
    const records = await source.recordsFor(batchTime, this.ssc.batchIntervalMs);
    this.recordsPerBatch.set(batchTime, records.length);
    const segments = Array.from({ length: this.partitions }, (_, i) => {
      const [from, to] = sliceBounds(records.length, this.partitions, i);
      return records.slice(from, to);
    });
    const { bytes, offsets } = encodeSegments(segments);
    // An empty batch stores nothing: its offsets say every partition is empty.
    if (bytes.length > 0) await this.ssc.env().store.put(key, bytes);
    this.blocks.set(batchTime, { offsets, records: records.length });
    return new BlockDataset<T>({ ctx, scope, deps: [], numPartitions: this.partitions }, key, offsets);
  }

  protected override forget(batchTime: number): void {
    this.recordsPerBatch.delete(batchTime);
    this.blocks.delete(batchTime);
    this.ssc.cleanup(this.ssc.env().store.deletePrefix(this.blockKey(batchTime)));
  }

  private blockKey(batchTime: number): string {
    return `input/${this.id}/${batchTime}`;
  }
}
