import { errorText } from '../errors';

/**
 * An input stream's latest error, as Spark's receiver keeps its `lastError` and `lastErrorTime` for the Streaming UI:
 * a refused or lost connection being retried, a file or object a batch could not read, a throttled shard.
 */
export interface SourceError {
  /** When it happened, ms since the epoch (the page writes it in UTC, as a batch time). */
  readonly atMs: number;
  /** One line: the error's class and text (`Error: connect ECONNREFUSED 127.0.0.1:9999`). */
  readonly message: string;
}

/** How an input stream is doing, beyond its records: Spark's receiver status and last error. */
export interface SourceStatus {
  /**
   * Whether it receives now, for a source with a connection of its own: `connected`, or `retrying` while a refused
   * or lost connection is tried again. Absent for the others (a folder, a queue), whose batches read on demand.
   */
  readonly state?: 'connected' | 'retrying';
  /** Its latest error, kept after it recovered (as Spark keeps it); absent when there has been none. */
  readonly lastError?: SourceError;
}

/** `error` as one line of its class and text, for {@link SourceError.message}. */
export function sourceError(error: unknown, atMs = Date.now()): SourceError {
  return { atMs, message: errorText(error).split('\n', 1)[0]!.trim() }; // split always gives one element
}

/** The later of two errors (either may be absent). */
export function laterError(a: SourceError | undefined, b: SourceError | undefined): SourceError | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.atMs >= a.atMs ? b : a;
}
