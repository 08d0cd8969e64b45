/**
 * The losing attempts of copied tasks that still run (see `DAGScheduler`'s speculation): the other attempt won, and
 * this one cannot be stopped (a Lambda invocation cannot be killed, nor an async task in this thread), so it goes on
 * and writes what any attempt writes, its persisted blocks and shuffle output among them, however late. Spark kills
 * it; here, what a cleanup deletes while losers run is deleted again once they settled (see
 * `StreamingContext.deleteTaskWrites`), and a batch never waits for them.
 */
export class LosingAttempts {
  private readonly running = new Set<Promise<void>>();
  /** Resolved at the end of a run: no wait for a loser goes on past it. */
  private release = released();

  /** Tracks a losing attempt until `settled` resolves (its runner's answer came, whatever it was). */
  add(settled: Promise<unknown>): void {
    const tracked: Promise<void> = settled.then(
      () => {
        this.running.delete(tracked);
      },
      () => {
        this.running.delete(tracked);
      },
    );
    this.running.add(tracked);
  }

  /** How many losing attempts still run. */
  get size(): number {
    return this.running.size;
  }

  /** Resolves once every losing attempt running now settled, or once a run's end stopped waiting for them. */
  settled(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return Promise.race([Promise.all(this.running).then(() => {}), this.release.promise]);
  }

  /**
   * Waits for the losing attempts running now at most `maxMs`, then stops every wait: the run is over, and what a
   * loser still running writes later is the next restore's to delete.
   */
  async releaseWithin(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxMs);
    });
    await Promise.race([this.settled(), bound]);
    clearTimeout(timer);
    this.release.resolve();
    this.release = released();
  }
}

/** A promise and the function that resolves it. */
function released(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
