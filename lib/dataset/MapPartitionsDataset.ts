import { Dataset, type DatasetOrigin, type DatasetSpec } from './Dataset';
import { letterKey } from './pairOf';
import type { Emit, RecordCursor } from './RecordLoops';
import type { TaskContext } from './TaskContext';

export type { Emit, Pending, RecordCursor } from './RecordLoops';

/** The record-level transformations that keep partitioning as it is (Spark's MapPartitionsRDD). */
export type MapKind = 'map' | 'flatMap' | 'filter' | 'mapPartitions' | 'glom' | 'mapValues' | 'flatMapValues';

/**
 * Applies a function within each partition. A function that throws on a record (malformed JSON, a wrong type)
 * sends that record to the dead-letter output and the partition goes on; functions may return promises
 * (inline expressions do). A dead letter holds the record as it entered the stage (the source's line), not what
 * the ops before the failing one made of it: each output record's origin is kept beside it, per partition.
 * A `mapPartitions` function gets a third argument, `fail(record, error)`, to dead-letter a record itself.
 */
export class MapPartitionsDataset<T = unknown> extends Dataset<T> {
  readonly type = 'mapPartitions';

  /** Per computed partition, the stage-input record each output record came from (same index). */
  private readonly recordOrigins = new Map<number, unknown[]>();

  constructor(
    origin: DatasetOrigin,
    readonly kind: MapKind,
    readonly fnId: string,
  ) {
    super(origin);
  }

  /** Rebuilds the dataset inside a task. */
  static fromSpec(spec: DatasetSpec): MapPartitionsDataset {
    return new MapPartitionsDataset({ spec }, spec.args.kind as MapKind, spec.args.fn as string);
  }

  protected args(): Record<string, unknown> {
    return { kind: this.kind, fn: this.fnId };
  }

  /** True for the kinds that handle one record at a time, which can be fused into one pass. */
  get perRecord(): boolean {
    return this.kind !== 'glom' && this.kind !== 'mapPartitions';
  }

  /** The stage-input record of each record of a partition this task computed, when known (see `compute`). */
  override originsOf(partition: number): readonly unknown[] | undefined {
    return this.recordOrigins.get(partition);
  }

  async compute(partition: number, tc: TaskContext): Promise<T[]> {
    if (this.perRecord) {
      const out: T[] = [];
      const origins: unknown[] = [];
      const cursor: RecordCursor = { origin: undefined };
      await this.forEachRecord(
        partition,
        tc,
        (record) => {
          out.push(record as T);
          origins.push(cursor.origin);
        },
        cursor,
      );
      this.recordOrigins.set(partition, origins);
      return out;
    }
    const input = await tc.partitionOf(this.depSpecs[0]!.parent, partition);
    if (this.kind === 'glom') return [input as T];
    const fail = (record: unknown, error: unknown) =>
      tc.deadLetter(this.toString(), partition, this.fnId, record, error, this.origin);
    return Array.from(await tc.fn(this.fnId)(input, partition, fail)) as T[];
  }

  /**
   * Streams the partition's records to `emit` in one pass through this and every fusable parent, without the
   * array each operator would otherwise build (most of WordCount's time was the garbage of those arrays).
   * The pass stays synchronous until a function (or `emit`) returns a promise, and awaits only that one.
   * `cursor.origin` is, while a record goes through the pass, the stage-input record it came from.
   */
  async forEachRecord(
    partition: number,
    tc: TaskContext,
    emit: Emit,
    cursor: RecordCursor = { origin: undefined },
  ): Promise<void> {
    const fail = (refused: unknown, error: unknown) =>
      tc.deadLetter(
        this.toString(),
        partition,
        this.fnId,
        cursor.origin,
        error,
        this.origin,
        this.keyFor(cursor.origin, refused),
      );
    const { recordStep, stepAll } = tc.loops;
    const step = recordStep(this.kind, tc.fn(this.fnId), emit, fail);
    const parentId = this.depSpecs[0]!.parent;
    const parent = tc.fusable(parentId);
    if (parent) {
      await parent.forEachRecord(partition, tc, step, cursor);
      return;
    }
    // An input that reads or makes its records a chunk at a time hands them over so; each is its own origin.
    if (await tc.forEachChunk(parentId, partition, (chunk) => stepAll(step, chunk, chunk, cursor))) return;
    const input = await tc.partitionOf(parentId, partition);
    await stepAll(step, input, tc.originsOf(parentId, partition) ?? input, cursor);
  }

  /** The key a per-key kind's dead letter names, when the record it shows (the stage input) is not the pair. */
  private keyFor(origin: unknown, refused: unknown): unknown {
    const perKey = this.kind === 'mapValues' || this.kind === 'flatMapValues';
    return perKey ? letterKey(origin, refused) : undefined;
  }
}
