import type { StreamingContext } from '../StreamingContext';
import { BatchRun, currentBatch } from './BatchRun';
import type { Clock } from './Clock';
import type { BatchInfo } from './StreamingListener';

/** When a run stops. */
export interface RunLimits {
  /** Stop after this many batches. */
  readonly batches?: number;
  /** Stop after the batch at or past this many milliseconds of stream time. */
  readonly durationMs?: number;
}

/** How a run ended. */
export interface RunSummary {
  readonly batches: readonly BatchInfo[];
  /** Batches generated but not run because a stop was asked for. */
  readonly notRun: number;
  /** Set when a batch failed and stopped the job. */
  readonly error?: Error;
}

/**
 * Spark's JobGenerator and JobScheduler in one: at each batch time it asks every output for its job, queues the
 * batch, and runs queued batches with at most `concurrentJobs` jobs at once. A late batch is queued, never
 * skipped. After each batch it records the batch's metrics and forgets what no stream still needs.
 */
export class JobScheduler {
  private readonly stopping = new AbortController();
  private readonly done: BatchInfo[] = [];
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly ssc: StreamingContext,
    private readonly clock: Clock,
  ) {}

  /** Asks the run to stop once the running batch is done. */
  stop(): void {
    this.stopping.abort();
  }

  /** Runs batches until a limit is reached, `stop()` is called, or a batch fails. */
  async run(limits: RunLimits): Promise<RunSummary> {
    const interval = this.ssc.batchIntervalMs;
    this.ssc.graph.start(0, this.ssc.minRememberMs);
    this.clock.start();
    const inFlight: Promise<void>[] = [];
    let generated: Promise<Array<() => Promise<void>>> = Promise.resolve([]);
    let failure: Error | undefined;
    let notRun = 0;
    for (let n = 1; ; n++) {
      const batchTime = n * interval;
      if (limits.batches !== undefined && n > limits.batches) break;
      if (limits.durationMs !== undefined && batchTime > limits.durationMs) break;
      await this.clock.waitUntil(batchTime, this.stopping.signal);
      if (this.stopping.signal.aborted || failure) break;
      const dueAt = this.clock.dueAt(batchTime);
      // Generation is chained so batches always reach the job queue in time order.
      generated = generated.then(() => this.generateJobs(batchTime));
      const batch = generated
        .then((jobs) => this.runBatch(batchTime, dueAt, jobs))
        .then(
          (info) => {
            if (info.error && !failure) {
              failure = new Error(info.error);
              this.stop();
            }
          },
          (error: unknown) => {
            failure ??= error instanceof Error ? error : new Error(String(error));
            this.stop();
          },
        );
      inFlight.push(batch);
      // On the logical clock batches run back to back; on the system clock the next tick does not wait.
      if (this.clock.kind === 'logical') await batch;
    }
    await Promise.all(inFlight);
    notRun = this.skipped;
    return { batches: this.done, notRun, ...(failure ? { error: failure } : {}) };
  }

  private skipped = 0;

  /** The batch's jobs; a graph that cannot generate (a transform returning nothing) fails the batch. */
  private async generateJobs(batchTime: number): Promise<Array<() => Promise<void>>> {
    const jobs: Array<() => Promise<void>> = [];
    for (const output of this.ssc.graph.outputs) {
      try {
        const job = await output.generateJob(batchTime);
        if (job) jobs.push(job);
      } catch (error) {
        jobs.push(() => Promise.reject(error));
      }
    }
    return jobs;
  }

  private async runBatch(
    batchTime: number,
    dueAt: number,
    jobs: Array<() => Promise<void>>,
  ): Promise<BatchInfo> {
    const batch = new BatchRun(batchTime);
    let started: number | undefined;
    let error: string | undefined;
    await Promise.all(
      jobs.map(async (job) => {
        await this.acquire();
        try {
          if (this.stopping.signal.aborted && started === undefined) {
            this.skipped++;
            return;
          }
          started ??= Date.now();
          await currentBatch.run(batch, job);
        } catch (e) {
          error ??= e instanceof Error ? e.message : String(e);
        } finally {
          this.release();
        }
      }),
    );
    const ended = Date.now();
    const start = started ?? ended;
    const records = this.ssc.graph.inputs.reduce(
      (sum, input) => sum + (input.recordsPerBatch.get(batchTime) ?? 0),
      0,
    );
    const info: BatchInfo = {
      batchTime,
      records,
      schedulingDelayMs: Math.max(0, start - dueAt),
      processingTimeMs: ended - start,
      totalDelayMs: Math.max(0, ended - dueAt),
      jobs: jobs.length,
      stages: batch.stages,
      driverStages: batch.driverStages,
      tasks: batch.tasks,
      taskAttempts: batch.taskAttempts,
      shuffleBytes: batch.shuffleBytes,
      storageRequests: batch.storageRequests,
      deadLetters: batch.deadLetters.length,
      ...(error ? { error } : {}),
    };
    if (batch.deadLetters.length > 0)
      for (const l of this.ssc.streamingListeners) l.onDeadLetters?.(batch.deadLetters);
    this.done.push(info);
    for (const l of this.ssc.streamingListeners) l.onBatchCompleted?.(info);
    if (!error) {
      this.ssc.graph.clearMetadata(batchTime);
      await this.ssc.env().store.deletePrefix(`shuffle/${batchTime}/`);
    }
    return info;
  }

  private async acquire(): Promise<void> {
    if (this.running < this.ssc.concurrentJobs) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
