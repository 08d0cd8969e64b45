import { type BatchLimit, heldBackAt, restoredArrived, restoredCount } from './RateLimit';
import type { Source } from './Source';

/** Settings of a {@link QueueSource}. */
export interface QueueSourceOptions {
  /** Hand out one queued batch per stream batch; when false the first batch gets them all. Default `true`. */
  readonly oneAtATime?: boolean;
}

/**
 * A fixed list of batches handed out in order, like Spark's `queueStream`; meant for tests and examples.
 * Once the queue runs out every later batch is empty, of one partition (Spark's default RDD).
 *
 * The records depend only on the batch index derived from the batch time, never on how many times the
 * source was asked, so a batch can be replayed after a crash.
 *
 * @example
 * const source = new QueueSource([['a', 'b'], ['c']]);
 * await source.recordsFor(1000, 1000); // ['a', 'b']
 * await source.recordsFor(2000, 1000); // ['c']
 * await source.recordsFor(3000, 1000); // []
 */
export class QueueSource<T> implements Source<T> {
  /** Always `queue(<n> batches)`. */
  readonly description: string;
  /** Always true: a batch's records are a function of its batch time. */
  readonly replayable = true;
  private readonly batches: readonly (readonly T[])[];
  private readonly oneAtATime: boolean;
  /** Rate-limited: how many queued records batches took so far; undefined until a limited batch took some. */
  private taken: number | undefined;
  /**
   * Rate-limited: how many queued records had arrived by the last batch that took some (`taken` below it: the cap
   * held records back); undefined until then, or restored from a position written before it was recorded.
   */
  private arrived: number | undefined;
  /** Rate-limited: the records [first, end) the last batch took, for its input metadata. */
  private lastTaken: { readonly first: number; readonly end: number } | undefined;

  /** Queues `batches`; they are copied so later changes by the caller do not alter replays. */
  constructor(batches: T[][], options: QueueSourceOptions = {}) {
    if (!Array.isArray(batches)) {
      throw new Error(`QueueSource batches must be an array of arrays, got ${typeof batches}`);
    }
    batches.forEach((batch, index) => {
      if (!Array.isArray(batch)) {
        throw new Error(`QueueSource batches[${index}] must be an array, got ${typeof batch}`);
      }
    });
    this.batches = batches.map((batch) => [...batch]);
    this.oneAtATime = options.oneAtATime ?? true;
    this.description = `queue(${batches.length} batches)`;
  }

  /**
   * The queued batch whose index is `batchTime / intervalMs − 1`, or an empty array past the end. With `limit`,
   * the queue is one line of records that arrive a listed batch at a time: a batch takes at most
   * `limit.maxRecords()` of those that arrived and were not taken, and the rest wait for the next batches.
   */
  async recordsFor(batchTime: number, intervalMs: number, limit?: BatchLimit): Promise<T[]> {
    const batchIndex = Math.round(batchTime / intervalMs) - 1;
    if (limit) {
      const arrived = this.batches.slice(0, this.batchesArrivedBy(batchIndex)).flatMap((batch) => [...batch]);
      // None taken under the cap yet: from what arrived before this batch, which is where a job resumed with the cap
      // added stands (from 0 it handed out the batches it ran without the cap a second time).
      const first = this.taken ?? this.recordsArrivedBy(batchIndex - 1);
      const end = Math.max(first, Math.min(arrived.length, first + limit.maxRecords()));
      this.taken = end;
      this.arrived = arrived.length;
      this.lastTaken = { first, end };
      return arrived.slice(first, end);
    }
    if (!this.oneAtATime) return batchIndex === 0 ? this.batches.flatMap((batch) => [...batch]) : [];
    return [...(this.batches[batchIndex] ?? [])];
  }

  /** How many of the queued batches arrived by the batch of index `batchIndex` (one a batch, or all at once). */
  private batchesArrivedBy(batchIndex: number): number {
    return batchIndex < 0 ? 0 : this.oneAtATime ? batchIndex + 1 : this.batches.length;
  }

  /** How many queued records arrived by the batch of index `batchIndex`. */
  private recordsArrivedBy(batchIndex: number): number {
    let records = 0;
    for (const batch of this.batches.slice(0, this.batchesArrivedBy(batchIndex))) records += batch.length;
    return records;
  }

  /** Which of the queued batches the batch took, or for a rate-limited queue which of its records. */
  describeTaken(batchTime: number, intervalMs: number): readonly string[] {
    if (this.lastTaken) {
      const { first, end } = this.lastTaken;
      return [
        end > first ? `queued records ${first}–${end - 1}` : `no queued record (${first} taken before)`,
      ];
    }
    const batchIndex = Math.round(batchTime / intervalMs) - 1;
    const count = this.batches.length;
    if (!this.oneAtATime)
      return [batchIndex === 0 ? `all ${count} queued batches` : 'none: all were taken at once'];
    return [
      batchIndex < count ? `queued batch ${batchIndex + 1} of ${count}` : `past the queue's ${count} batches`,
    ];
  }

  /**
   * One partition for a batch past the queue (with `oneAtATime` false, every batch after the first), as Spark's
   * queueStream hands out its default RDD there, `sc.makeRDD(Seq.empty, 1)`; a queued batch has the stream's
   * partitions, and so has every batch of a rate-limited queue, whose backlog may outlast the list.
   */
  partitionsFor(batchTime: number, intervalMs: number, limited: boolean): number | undefined {
    if (limited) return undefined;
    const batchIndex = Math.round(batchTime / intervalMs) - 1;
    const queued = this.oneAtATime
      ? batchIndex < this.batches.length
      : batchIndex === 0 && this.batches.length > 0;
    return queued ? undefined : 1;
  }

  /**
   * Rate-limited: how many records batches took and how many had arrived by then, for the metadata checkpoint;
   * otherwise none.
   */
  checkpointPosition(): { taken: number; arrived?: number } | undefined {
    if (this.taken === undefined) return undefined;
    return this.arrived === undefined ? { taken: this.taken } : { taken: this.taken, arrived: this.arrived };
  }

  /** Whether batches had taken fewer records than had arrived at a {@link checkpointPosition}. */
  heldBackAt(position: unknown): boolean | undefined {
    return heldBackAt(position, 'taken');
  }

  /** Continues a rate-limited queue from a {@link checkpointPosition}. */
  restorePosition(position: unknown): void {
    this.taken = restoredCount(position, 'taken', 'a count of records', this.description);
    this.arrived = restoredArrived(position, 'taken');
  }
}
