import type { Clock } from './Clock';

/**
 * The logical clock with a wall clock of its own, for simulations: batches still run back to back, but time only
 * moves when the job says it does ({@link advance}, such as a known cost per record) or when the next batch is due
 * while nothing runs. So scheduling delay, processing time and total delay are exact functions of the work, and a
 * run that falls behind shows it the same way on every machine (the backpressure tests overload a job with it).
 *
 * @example
 * const clock = new VirtualClock();
 * ssc.queueStream(batches).map((r) => { clock.advance(2); return r; }); // 2 ms of processing per record
 */
export class VirtualClock implements Clock {
  readonly kind = 'logical';
  private nowMs = 0;

  start(): void {}

  /** Jumps to `batchTime` when it lies ahead (the job was idle until then); a late batch starts at once. */
  async waitUntil(batchTime: number): Promise<void> {
    this.nowMs = Math.max(this.nowMs, batchTime);
  }

  /** Batch t is due at virtual time t. */
  dueAt(batchTime: number): number {
    return batchTime;
  }

  /** The virtual time, in ms since the start. */
  now(): number {
    return this.nowMs;
  }

  /** Lets `ms` of virtual time pass: the cost of the work just done. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock cannot go back or advance by ${ms} ms`);
    this.nowMs += ms;
  }
}
