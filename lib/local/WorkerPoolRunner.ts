import { type ResourceLimits, Worker } from 'node:worker_threads';
import { knownEmptyResult } from '../executor/knownEmptyResult';
import type { JobSource } from '../job/JobSource';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import { crashPoint } from '../scheduler/crashPoint';
import type { TaskRunner } from '../scheduler/TaskRunner';
import type { LocalDirs } from './localExecutorEnv';

interface QueuedTask {
  readonly task: TaskPlan;
  readonly resolve: (result: TaskResult) => void;
}

interface PoolThread {
  readonly worker: Worker;
  /** True once the thread has built the job's graph and takes tasks. */
  started: boolean;
  /** The task the thread is running, if any. */
  running: QueuedTask | undefined;
  /** Set once the thread is gone (an error, `process.exit`, out of memory, `terminate`). */
  dead: boolean;
}

/** Settings of a worker-thread pool. */
export interface WorkerPoolOptions {
  /** Node's limits for each thread (heap sizes, stack size). Default: Node's defaults. */
  readonly resourceLimits?: ResourceLimits;
}

/**
 * Runs tasks on a pool of worker threads, one task per thread at a time. Each thread rebuilds the job's graph
 * from its source; a task crosses as one message of plain JSON and its result comes back as one message, so
 * records move between threads by whole partitions through the block store, never one message per record.
 * A thread that dies (an uncaught error, `process.exit` in user code, running out of memory) fails its running
 * task as a result, which the scheduler retries, and is replaced by a fresh thread that takes over its queue.
 */
export class WorkerPoolRunner implements TaskRunner {
  readonly name: string;
  private readonly threads: PoolThread[] = [];
  // One queue per thread slot: partition p always runs on slot p mod n, so a partition persisted in memory by
  // one batch's task is found by the next batch's task for the same partition (Spark's cache locality).
  private readonly queues: QueuedTask[][] = [];
  private readonly startup: Promise<void>[] = [];
  /** Why the pool cannot run tasks any more: a replacement thread could not even build the job. */
  private broken: string | undefined;
  private closed = false;

  constructor(
    private readonly job: JobSource,
    private readonly dirs: LocalDirs,
    readonly parallelism: number,
    private readonly options: WorkerPoolOptions = {},
  ) {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(`the worker pool needs a positive whole number of threads, got ${parallelism}`);
    }
    this.name = `worker-threads(${parallelism})`;
    for (let slot = 0; slot < parallelism; slot++) {
      this.queues.push([]);
      this.startup.push(this.spawn(slot, false));
    }
  }

  /**
   * Starts the thread of a slot; the promise settles when it has built the job's graph. A first thread's
   * startup error rejects it (`ready` reports it); a replacement's fails the slot's queued tasks instead.
   */
  private spawn(slot: number, replacement: boolean): Promise<void> {
    const worker = new Worker(new URL('./taskWorker.mjs', import.meta.url), {
      workerData: { job: this.job, dirs: this.dirs },
      ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
    });
    const thread: PoolThread = { worker, started: false, running: undefined, dead: false };
    this.threads[slot] = thread;
    return new Promise<void>((resolve, reject) => {
      let cause: Error | undefined;
      worker.on('message', (message: { ready?: true; result?: TaskResult }) => {
        if (message.ready) {
          thread.started = true;
          resolve();
          this.dispatch();
          return;
        }
        const done = thread.running;
        thread.running = undefined;
        done?.resolve(message.result!);
        this.dispatch();
      });
      // 'error' comes first for an uncaught error or running out of memory; 'exit' always comes, alone for
      // `process.exit` in user code. The thread is handled as dead once, on 'exit'.
      worker.on('error', (error) => {
        cause = error;
      });
      worker.on('exit', (exitCode) => {
        thread.dead = true;
        if (this.closed) return;
        const why = cause ? cause.message : `it exited with code ${exitCode}`;
        if (!thread.started) {
          const error = cause ?? new Error(`a worker thread stopped before it built the job: ${why}`);
          if (!replacement) {
            reject(error);
            return;
          }
          // The job no longer builds on a fresh thread (its module changed or fails now): spawning again would
          // loop, so every task of the pool fails from now on, and the batch fails with the reason.
          this.broken = `a replacement worker thread could not build the job: ${why}`;
          resolve();
          for (const queue of this.queues)
            for (const queued of queue.splice(0)) this.fail(queued, this.broken);
          return;
        }
        const lost = thread.running;
        thread.running = undefined;
        // The task that was running is lost with the thread: a failed result makes the scheduler retry it.
        if (lost) this.fail(lost, `the worker thread running it died: ${why}`);
        void this.spawn(slot, true);
      });
    });
  }

  private fail({ task, resolve }: QueuedTask, error: string): void {
    resolve({ ok: false, stageId: task.stage.stageId, partition: task.partition, error });
  }

  /** Waits until every thread has built the job graph (or throws the first thread's startup error). */
  async ready(): Promise<void> {
    await Promise.all(this.startup);
  }

  run(task: TaskPlan): Promise<TaskResult> {
    if (this.closed) throw new Error('the worker pool is closed');
    return new Promise((resolve) => {
      if (this.broken) {
        this.fail({ task, resolve }, this.broken);
        return;
      }
      // A task whose partitions are empty by its plan gives a result known here (see `knownEmptyResult`): sending
      // it would cost two structured clones and a thread hop, and wait behind its slot's queue. Its thread does not
      // evict old persisted partitions for it; its next real task does.
      const known = knownEmptyResult(task);
      if (known) {
        crashPoint('task', task.batchTime);
        resolve(known);
        return;
      }
      this.queues[task.partition % this.threads.length]!.push({ task, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const [slot, thread] of this.threads.entries()) {
      if (!thread.started || thread.dead || thread.running) continue;
      const next = this.queues[slot]!.shift();
      if (!next) continue;
      thread.running = next;
      thread.worker.postMessage({ task: next.task });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }
}
