/**
 * At most `limit` holders at once; the others wait in arrival order. The batch scheduler bounds its output jobs
 * this way (`concurrentJobs`) and the Lambda task runner its invocations (`parallelism`): one limiter, so both
 * behave alike. A release hands its slot straight to the first waiter, so a caller that arrives between the
 * release and the waiter's wake can neither jump the queue nor push the holders past the limit. `close()` lets
 * every waiter and every later caller through, so a runner that stops leaves no caller hanging (the caller sees
 * its own closed flag and gives up).
 */
export class Slots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(private readonly limit: number) {}

  /** Resolves once a slot is this caller's; pair it with `release()` in a `finally`. */
  async acquire(): Promise<void> {
    if (this.closed || (this.held < this.limit && this.waiting.length === 0)) {
      this.held++;
      return;
    }
    // The releasing holder counts this caller in before it wakes it.
    await new Promise<void>((wake) => this.waiting.push(wake));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }

  /** Lets every waiter through now and every later caller at once. */
  close(): void {
    this.closed = true;
    for (const wake of this.waiting.splice(0)) {
      this.held++;
      wake();
    }
  }
}
