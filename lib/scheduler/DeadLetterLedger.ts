import type { DeadLetterSource } from '../dataset/TaskContext';

/**
 * A ledger entry as the metadata checkpoint keeps it: the dataset partition's key, its batch time, and the batch
 * whose letters hold it (absent in checkpoints written before it was kept).
 */
export type WrittenDeadLetters = ReadonlyArray<readonly [key: string, batchTime: number, writtenBy?: number]>;

/**
 * Which dataset partitions' dead letters are written, so that each rejected record is written once.
 *
 * The rule: a dead letter belongs to the dataset partition whose computation rejected the record, and a
 * dataset partition's letters are written by the first batch that computes it; every later computation of it
 * writes none. A dataset that is not persisted is computed again by every job that reads it (two outputs of
 * one batch, a window that reads the batches a running state read before it, a task retried or a job run
 * again), and after a restart by the batches that rebuild a window or a state from older input blocks. A
 * computation is deterministic, so it rejects the same records every time. Datasets are named as every
 * process names them (the stream that generated them, its batch time, the path from its dataset: see
 * `GeneratedAs`), and the entries of batches whose letters are written travel in the metadata checkpoint, so
 * a restarted driver knows them too. An entry is committed only once its batch's letters are written
 * (`commit`), and the checkpoint reads entries and file sizes between writes: it never holds one without the
 * other. Datasets no stream generated (built inside `foreachRDD`) belong to the running batch alone and stay
 * in this process.
 */
export class DeadLetterLedger {
  /**
   * Each key with its batch time, the batch that claimed it while that batch's letters are not written, and the
   * batch whose letters hold it once they are.
   */
  private readonly entries = new Map<
    string,
    { batchTime: number; stable: boolean; claimedBy?: number; writtenBy?: number }
  >();

  /**
   * True when no computation before this one gave the letters of `source`: then it is claimed by batch
   * `batchTime`, whose letters are written next.
   */
  claim(source: DeadLetterSource, batchTime: number): boolean {
    const key = DeadLetterLedger.key(source);
    if (this.entries.has(key)) return false;
    this.entries.set(key, { batchTime: source.batchTime, stable: source.stable, claimedBy: batchTime });
    return true;
  }

  /** Marks the entries batch `batchTime` claimed as written: call once its letters are. */
  commit(batchTime: number): void {
    for (const entry of this.entries.values()) {
      if (entry.claimedBy !== batchTime) continue;
      delete entry.claimedBy;
      entry.writtenBy = batchTime;
    }
  }

  /**
   * Forgets the entries batch `batchTime` claimed: it failed without writing its letters, so the computation
   * that runs it again gives them.
   */
  release(batchTime: number): void {
    for (const [key, entry] of this.entries) if (entry.claimedBy === batchTime) this.entries.delete(key);
  }

  /** The written entries a restart can match (named datasets only), for the metadata checkpoint. */
  written(): WrittenDeadLetters {
    const written: Array<readonly [string, number, number?]> = [];
    for (const [key, { stable, claimedBy, batchTime, writtenBy }] of this.entries) {
      if (!stable || claimedBy !== undefined) continue;
      written.push(writtenBy === undefined ? [key, batchTime] : [key, batchTime, writtenBy]);
    }
    return written;
  }

  /**
   * After a restart: the entries the metadata checkpoint recorded, but those of letters written by a batch after
   * `keptThrough` (default: none left out): their letters were discarded (see `discardDeadLettersAfter` in
   * `StreamingContext`), so the batch, run again, writes them again. An entry of a checkpoint that did not record
   * its writer is kept.
   */
  restore(written: WrittenDeadLetters, keptThrough = Number.POSITIVE_INFINITY): void {
    for (const [key, batchTime, writtenBy] of written) {
      if (writtenBy !== undefined && writtenBy > keptThrough) continue;
      this.entries.set(key, { batchTime, stable: true, ...(writtenBy !== undefined ? { writtenBy } : {}) });
    }
  }

  /**
   * Forgets the entries of batch times at or before `batchTime`: cleanup has forgotten every dataset generated
   * then, so none of them is computed again.
   */
  forgetThrough(batchTime: number): void {
    for (const [key, entry] of this.entries)
      if (entry.batchTime <= batchTime && entry.claimedBy === undefined) this.entries.delete(key);
  }

  /** How many entries are remembered (tests check that it stays bounded). */
  get size(): number {
    return this.entries.size;
  }

  /** The entry's key: the dataset partition. */
  static key(source: DeadLetterSource): string {
    return `${source.dataset}:${source.partition}`;
  }
}
