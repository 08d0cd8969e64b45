/**
 * When batches fall due. Batch times are relative to the start: interval, 2×interval, … The system clock
 * waits for each batch's wall-clock moment; the logical clock runs batches back to back (tests, benchmarks).
 */
export interface Clock {
  /** `logical` or `system`. */
  readonly kind: 'logical' | 'system';
  /** Called once when the run starts. */
  start(): void;
  /** Resolves when `batchTime` is due, or at once on the logical clock; `signal` cuts the wait short. */
  waitUntil(batchTime: number, signal: AbortSignal): Promise<void>;
  /** The wall-clock moment (ms since the epoch) at which `batchTime` was due. */
  dueAt(batchTime: number): number;
  /** The time batches are measured in, in ms; default `Date.now()` (a simulation has its own, see `VirtualClock`). */
  now?(): number;
}

/** Real time: batch t is due t ms after the start. */
export class SystemClock implements Clock {
  readonly kind = 'system';
  private startMs = 0;

  /**
   * @param startedAtMs the wall-clock moment (ms since the epoch) of batch time 0; default: when `start` is called.
   * A moment in the past makes the batches due since then run at once, back to back (a job waking from sleep).
   */
  constructor(private readonly startedAtMs?: number) {}

  start(): void {
    this.startMs = this.startedAtMs ?? Date.now();
  }

  waitUntil(batchTime: number, signal: AbortSignal): Promise<void> {
    const delay = this.startMs + batchTime - Date.now();
    if (delay <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, delay);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  dueAt(batchTime: number): number {
    return this.startMs + batchTime;
  }
}

/** Logical time: a batch is due the moment the previous one is generated. */
export class LogicalClock implements Clock {
  readonly kind = 'logical';
  private readonly due = new Map<number, number>();

  start(): void {}

  async waitUntil(batchTime: number): Promise<void> {
    this.due.set(batchTime, Date.now());
  }

  dueAt(batchTime: number): number {
    const at = this.due.get(batchTime) ?? Date.now();
    this.due.delete(batchTime);
    return at;
  }
}
