/**
 * The dead letters a job has written, by key, so that each rejected record is written once. A dataset that is
 * not persisted is computed again by every job that reads it: two outputs of one batch, and later batches too
 * (a window reads the batch a running state read before it), and each computation rejects the same records.
 * A computation is deterministic, so a letter's key (its dataset, partition, position, error and record)
 * names the same letter every time; records that really occur twice have different positions and stay.
 */
export class DeadLetterLedger {
  /** Each key with the batch that first wrote it. */
  private readonly written = new Map<string, number>();

  /** True the first time `key` is seen, and records it as written by batch `batchTime`. */
  firstTime(key: string, batchTime: number): boolean {
    if (this.written.has(key)) return false;
    this.written.set(key, batchTime);
    return true;
  }

  /**
   * Forgets the letters written by batches at or before `batchTime`: cleanup has forgotten every dataset
   * they can have come from, so none of them is computed again.
   */
  forgetThrough(batchTime: number): void {
    for (const [key, time] of this.written) if (time <= batchTime) this.written.delete(key);
  }

  /** How many letters are remembered (tests check that it stays bounded). */
  get size(): number {
    return this.written.size;
  }
}
