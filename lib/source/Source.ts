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
   * True when asking again for the same batch time returns the same records (a seeded generator, a queue),
   * so a batch can be recomputed from the source itself after a crash. False for sockets and folders.
   */
  readonly replayable: boolean;
  /** Called once before the first batch; a socket connects, a folder takes its first listing. */
  start?(ctx: SourceContext): Promise<void>;
  /** The records of the batch ending at `batchTime`. Called once per batch, in increasing batch time. */
  recordsFor(batchTime: number, intervalMs: number): Promise<T[]>;
  /**
   * Where the source is, as JSON for the metadata checkpoint (a folder source: the files it has read). Sources
   * that are replayable or cannot resume (a socket) have none.
   */
  checkpointPosition?(): unknown;
  /** Restores a position from the metadata checkpoint, after `start`. */
  restorePosition?(position: unknown): void;
  /** Called once when the stream stops; releases sockets, timers and watchers. */
  stop?(): Promise<void>;
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
}

/** True when a source can hand its batches to tasks as index ranges. */
export function isDirectSource<T>(source: Source<T>): source is DirectSource<T> {
  return typeof (source as Partial<DirectSource<T>>).indexRange === 'function';
}

/** What a source may use while it starts. */
export interface SourceContext {
  /** The batch interval of the stream, in milliseconds. */
  readonly intervalMs: number;
  /** True when batches run back to back on the logical clock instead of on wall-clock ticks. */
  readonly logicalClock: boolean;
}
