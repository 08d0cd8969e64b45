import type { BatchInfo } from '../scheduler/StreamingListener';
import { isPlannedSource, type PlanContext, type PlannedSource, type Source } from '../source/Source';

/** Batches in a row without a record after which a job sleeps, unless its document says `idleAfterBatches`. */
export const DEFAULT_IDLE_AFTER_BATCHES = 30;

/** Where a job fell asleep: its last batch, and the wall-clock moment (ms since the epoch) that batch was due. */
export interface SleepMark {
  readonly lastBatch: number;
  readonly dueAtMs: number;
}

/** A source that can tell, without taking anything, whether its next batch would hold a record. */
export interface PeekableSource {
  /** `readReport` reads a report that a direct-reading task left in the job's store (see `PlanContext`). */
  hasNewRecords(readReport?: PlanContext['readReport']): Promise<boolean>;
}

/** True when the source can be asked {@link PeekableSource.hasNewRecords}. */
export function isPeekable(source: Source): source is Source & PeekableSource {
  return typeof (source as Partial<PeekableSource>).hasNewRecords === 'function';
}

/**
 * Counts the batches in a row without a record; says when a job has been idle for `idleAfterBatches` of them.
 * A failed batch is not idle: the job stops on it anyway, and must not sleep over it.
 */
export class IdleTracker {
  private emptyInARow = 0;

  constructor(readonly idleAfterBatches: number) {}

  /** Adds a completed batch; true once the last `idleAfterBatches` batches were all empty. */
  observe(info: BatchInfo): boolean {
    this.emptyInARow = info.records === 0 && !info.error ? this.emptyInARow + 1 : 0;
    return this.emptyInARow >= this.idleAfterBatches;
  }

  /** Starts counting again: the sources said records wait (a batch's count can be 0 when its tasks read). */
  reset(): void {
    this.emptyInARow = 0;
  }
}

/**
 * How a job wakes from `mark`: the clock's batch time 0 goes back to where the sleeping job's clock had it
 * (`clockStartMs`, for a scheduler resuming after `resumedAfter`), so every batch that fell due while it slept is
 * due at once and runs back to back; those batches, through `emptyThrough`, read no input.
 *
 * Why run them rather than skip them: Spark's batches while a stream has no data are empty batches, and windows
 * and state timeouts count them. A window of 10 minutes must have slid past records older than that, and a
 * `mapWithState` timeout must fire, even when the job slept through those minutes; running the slept batches as
 * empty batches gives exactly what an always-on job that received nothing would have given. What arrived while
 * it slept lands in the first batch after them (due within one interval of waking), as records that a receiver
 * took late would: a batch holds what had arrived when it was cut.
 */
export function wakePlan(
  mark: SleepMark,
  resumedAfter: number,
  intervalMs: number,
  nowMs: number,
): { readonly clockStartMs: number; readonly emptyThrough: number } {
  // Batch b is due at mark.dueAtMs + (b - mark.lastBatch); the scheduler asks for b - resumedAfter.
  const clockStartMs = mark.dueAtMs - mark.lastBatch + resumedAfter;
  const sleptBatches = Math.max(0, Math.floor((nowMs - mark.dueAtMs) / intervalMs));
  return { clockStartMs, emptyThrough: mark.lastBatch + sleptBatches * intervalMs };
}

/**
 * `source`, except that batches at or before `throughBatchTime` read nothing: the batches a job slept through.
 * Every other member is the source's own (the copy is the source's prototype child, and its methods run on it),
 * so positions and checkpoints are untouched.
 */
export function emptyThrough<T>(source: Source<T>, throughBatchTime: () => number): Source<T> {
  const asleep = Object.create(source) as Source<T> & { recordsFor: Source<T>['recordsFor'] };
  asleep.recordsFor = (batchTime, intervalMs, limit) =>
    batchTime <= throughBatchTime()
      ? Promise.resolve([])
      : source.recordsFor.call(asleep, batchTime, intervalMs, limit);
  if (isPlannedSource(source)) {
    // A planned source's slept batches are plans with nothing to read (null parts).
    (asleep as PlannedSource<T>).planBatch = (batchTime, intervalMs, partitions, ctx) =>
      batchTime <= throughBatchTime()
        ? Promise.resolve({ reader: 'none', parts: Array.from({ length: partitions }, () => null) })
        : source.planBatch.call(asleep, batchTime, intervalMs, partitions, ctx);
  }
  return asleep;
}
