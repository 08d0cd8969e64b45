/**
 * The losing attempts of copied tasks that still run (see `DAGScheduler`'s speculation): the other attempt won, and
 * this one cannot be stopped (a Lambda invocation cannot be killed, nor an async task in this thread), so it goes on
 * and writes what any attempt writes, its persisted blocks and shuffle output among them, however late. Spark kills
 * it; here, what a cleanup deletes while losers run is deleted again once they settled (see
 * `StreamingContext.deleteTaskWrites`), and a batch never waits for them.
 *
 * A loser counts as ended when its runner answers, so the answer must come only once it can write nothing more.
 * In a thread it does. On Lambda the call is a synchronous invocation, and the coordinator's Lambda client sets no
 * request or socket timeout (`lambdaClient`; test/aws/lambdaClient.test.ts keeps it so): the call ends only with
 * the function's answer, its error, or its timeout, which stops the function too; the client never gives up on a
 * function that runs on. A timeout shorter than the worker's would end the call early, and the loser's late
 * blocks and shuffle output would land after the second deletion. One way a call still ends first: a connection
 * lost mid-call, after which the SDK invokes the function again and the first invocation runs on unseen; what it
 * writes late is what a loser still running at a run's end writes (deleted by a later restore; shuffle output
 * also expires by the bucket's lifecycle rule).
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
