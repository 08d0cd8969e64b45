import type { Logger } from '../log/Logger';
import type { BatchLimit } from './RateLimit';
import type { TakenBlock } from './ReceivedLines';
import type { SourceStatus } from './SourceStatus';

/**
 * Where an input stream's records come from. The engine asks a source for the records of one batch at a
 * time, at the batch's tick, and stores them as an input block; a source never pushes records on its own.
 *
 * Batch times are relative to the start of the stream: the first batch is `intervalMs`, then `2 × intervalMs`.
 * A batch covers the half-open interval (batchTime − intervalMs, batchTime].
 */
export interface Source<T = unknown> {
  /** A short human name for logs and errors, such as `generator(tweets)` or `socket(127.0.0.1:9999)`. */
  readonly description: string;
  /**
   * What kind of source it is, as a JSON job's `type` names it (`textFileStream`), for messages that name the kind
   * and the checkpoint's resume settings. Default: the description up to its `(` (`socket`).
   */
  readonly kind?: string;
  /**
   * True when asking again for the same batch time returns the same records (a seeded generator, a queue),
   * so a batch can be recomputed from the source itself after a crash. False for sockets and folders.
   */
  readonly replayable: boolean;
  /** Called once before the first batch; a socket connects, a folder takes its first listing. */
  start?(ctx: SourceContext): Promise<void>;
  /**
   * The records of the batch ending at `batchTime`. Called once per batch, in increasing batch time. With `limit`
   * (a rate-limited stream, see `RateLimit`) the batch takes at most `limit.maxRecords()` of the records that
   * arrived by then and were not taken before, oldest first; the rest wait in the source for the next batches.
   */
  recordsFor(batchTime: number, intervalMs: number, limit?: BatchLimit): Promise<T[]>;
  /**
   * How many partitions the batch ending at `batchTime` has when the source, not the stream's `partitions`,
   * decides it; undefined for the stream's. Asked with `limited` true for a rate-limited stream.
   */
  partitionsFor?(batchTime: number, intervalMs: number, limited: boolean): number | undefined;
  /**
   * Where the source is, as JSON for the metadata checkpoint (a folder source: the files it has read). Sources
   * that are replayable or cannot resume (a socket) have none.
   */
  checkpointPosition?(): unknown;
  /**
   * Where the checkpointed position points (a folder, `s3://bucket/prefix`, a Kinesis stream), for a source whose
   * position names what it read there: a restart from it by a source reading elsewhere is refused (see
   * `checkpointMismatch`), as the names a folder source took would skip the same names in another folder unread.
   */
  readonly readsFrom?: string;
  /**
   * For a source that replays a batch by its time (a generator, a queue): what its records are made from, as
   * short text (a generator's options). A restart that computes a batch from before it again under other settings
   * gets other records than the batch had, so where a stream carries batches across the restart (a state, an
   * incremental window), a restart under others is refused (see `checkpointMismatch`).
   */
  readonly replaySpec?: string;
  /**
   * For a source whose position is how far a rate cap let batches take (a generator, a queue): whether, at a
   * position it checkpointed, records that had arrived were still held back, untaken; undefined when the position
   * does not say (one written before sources recorded it). A restart that lifts the cap takes batches by their time
   * from there on, which skips what was held back: it is refused only when something was (see
   * `checkpointMismatch`).
   */
  heldBackAt?(position: unknown): boolean | undefined;
  /** Restores a position from the metadata checkpoint, after `start`. */
  restorePosition?(position: unknown): void;
  /** Called once when the stream stops; releases sockets, timers and watchers. */
  stop?(): Promise<void>;
  /**
   * What the batch that `recordsFor` just returned took, one short line each (the files, the queue's batch), for
   * the batch page's input metadata (Spark's). Asked right after `recordsFor`, before the next batch's. Optional.
   */
  describeTaken?(batchTime: number, intervalMs: number): readonly string[];
  /**
   * How the source is doing now, for the Streaming UI's input streams (Spark's receiver info): a socket's connection
   * and its latest failure, a trouble the tasks reported (a throttled shard). Asked as each batch completes. Optional;
   * a source's own calls that fail (a listing, a read at the tick) and its tasks' failed reads are recorded by the
   * engine without it.
   */
  status?(): SourceStatus;
}

/**
 * A source whose records are a pure function of their index (the built-in generator). Its batches need no
 * input block: the plan carries the batch's index range, and each task makes its own partition, in parallel
 * (as Spark's direct Kafka stream has each task read its own offset range).
 */
export interface DirectSource<T = unknown> extends Source<T> {
  /** The indexes [first, end) of the batch ending at `batchTime`. */
  indexRange(batchTime: number, intervalMs: number): { readonly first: number; readonly end: number };
  /** Plain JSON that rebuilds the source in any process (`kind` selects the class). */
  readonly directSpec: { readonly kind: 'generator'; readonly options: Readonly<Record<string, unknown>> };
  /** Record number `index`. */
  recordAt(index: number): T;
  /**
   * For a rate-limited stream: the next indexes to hand out, at most `limit.maxRecords()` of those that arrived by
   * `batchTime` and were not taken before. The source keeps its position ({@link Source.checkpointPosition}).
   */
  takeRange?(
    batchTime: number,
    intervalMs: number,
    limit: BatchLimit,
  ): { readonly first: number; readonly end: number };
}

/** True when a source can hand its batches to tasks as index ranges. */
export function isDirectSource<T>(source: Source<T>): source is DirectSource<T> {
  return typeof (source as Partial<DirectSource<T>>).indexRange === 'function';
}

/**
 * A source whose records arrive on their own (a socket; Spark's receiver): the engine's `BlockGenerator` takes
 * what has arrived every block interval and stores it as a block, so at the batch's tick only the last, partial
 * block is left to cut.
 */
export interface ReceiverSource<T = unknown> extends Source<T> {
  readonly receives: true;
  /**
   * The oldest `maxRecords` of the records received and not taken yet (all of them with Infinity). While
   * `pauseAtRecords` or more wait, the source stops reading, so its sender is held back (undefined: never).
   */
  takeReceived(maxRecords: number, pauseAtRecords: number | undefined): T[];
  /**
   * The same records as {@link takeReceived}, already encoded as the block the engine stores (undefined when none
   * wait): a source whose records arrive as text lines hands over the bytes they came as, so the receiving thread
   * neither decodes nor encodes a line. Optional; without it the engine encodes what `takeReceived` returns.
   */
  takeReceivedBlock?(maxRecords: number, pauseAtRecords: number | undefined): TakenBlock | undefined;
}

/** True when records arrive at a source on their own and the engine cuts them into blocks as they do. */
export function isReceiverSource<T>(source: Source<T>): source is ReceiverSource<T> {
  return (source as Partial<ReceiverSource<T>>).receives === true;
}

/** What a source may use while it starts. */
export interface SourceContext {
  /** The batch interval of the stream, in milliseconds. */
  readonly intervalMs: number;
  /** True when batches run back to back on the logical clock instead of on wall-clock ticks. */
  readonly logicalClock: boolean;
  /** The runtime's logger, for what a user should know (a lost connection). Default: the source's own default. */
  readonly log?: Logger;
}

/**
 * What each task of a batch reads from a {@link PlannedSource}, decided without reading a record: one plain
 * JSON part per partition (a Kinesis shard's range, a list of S3 keys). The metadata checkpoint keeps it, so a
 * recomputed task reads exactly what its first run read; `reader` names the function that reads a part
 * (see `directReaders`).
 */
export interface ReadPlan {
  /** The registered reader of the parts, such as `kinesis`. */
  readonly reader: string;
  /** One part per partition; a null part reads nothing. */
  readonly parts: readonly unknown[];
}

/** What a {@link PlannedSource} may use while it plans a batch. */
export interface PlanContext {
  /** The batch's own folder of the job's store (`input/n1/3000/`): tasks leave their reports here. */
  readonly folder: string;
  /** Reads a report a task left in the job's store (a key of a folder given before), or undefined. */
  readReport(key: string): Promise<Uint8Array | undefined>;
  /** For a rate-limited stream: the most each shard may give the batch (see `RateLimit`); the rest waits. */
  readonly limit?: BatchLimit;
}

/**
 * A source whose tasks read their input themselves (Spark's direct Kafka stream): the engine asks it only for
 * a {@link ReadPlan} per batch, records it in the metadata checkpoint before the batch runs, and the tasks read.
 * So what the driver reads and writes per batch does not grow with the records. `recordsFor` remains for a
 * source set not to read directly (`readsDirectly` false), which then gets input blocks as any other source.
 */
export interface PlannedSource<T = unknown> extends Source<T> {
  /** True when batches are planned, false when the engine asks `recordsFor` and stores input blocks. */
  readonly readsDirectly: boolean;
  /** What each of `partitions` tasks reads in the batch ending at `batchTime`. Called once per batch, in order. */
  planBatch(batchTime: number, intervalMs: number, partitions: number, ctx: PlanContext): Promise<ReadPlan>;
  /** Called before a batch's folder is deleted: the source takes what it still needs from its reports. */
  beforeForget?(folder: string): Promise<void>;
  /** How many records the tasks of a planned batch read, from their reports, once they ran; for the metrics. */
  recordsRead?(plan: ReadPlan, ctx: PlanContext): Promise<number>;
  /**
   * What a planned batch read, one short line per file, object or shard (a shard's sequence range, from its task's
   * report), once its tasks ran: the batch page's input metadata (Spark's offset ranges). Optional.
   */
  describeRead?(plan: ReadPlan, ctx: PlanContext): Promise<readonly string[]>;
}

/** True when a source plans its batches and its tasks read them (see {@link PlannedSource}). */
export function isPlannedSource<T>(source: Source<T>): source is PlannedSource<T> {
  return (source as Partial<PlannedSource<T>>).readsDirectly === true;
}
