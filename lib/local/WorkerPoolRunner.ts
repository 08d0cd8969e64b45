import { Worker } from 'node:worker_threads';
import type { JobSource } from '../job/JobSource';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import type { TaskRunner } from '../scheduler/TaskRunner';
import type { LocalDirs } from './localExecutorEnv';

interface PoolWorker {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  busy: boolean;
}

/**
 * Runs tasks on a pool of worker threads, one task per thread at a time. Each thread rebuilds the job's graph
 * from its source; a task crosses as one message of plain JSON and its result comes back as one message, so
 * records move between threads by whole partitions through the block store, never one message per record.
 */
export class WorkerPoolRunner implements TaskRunner {
  readonly name: string;
  private readonly workers: PoolWorker[] = [];
  // One queue per thread: partition p always runs on thread p mod n, so a partition persisted in memory by one
  // batch's task is found by the next batch's task for the same partition (Spark's cache locality).
  private readonly queues: Array<Array<{ task: TaskPlan; resolve: (r: TaskResult) => void }>> = [];
  private readonly pending = new Map<number, { resolve: (r: TaskResult) => void; task: TaskPlan }>();
  private nextId = 0;
  private closed = false;

  constructor(
    job: JobSource,
    dirs: LocalDirs,
    readonly parallelism: number,
  ) {
    if (!Number.isInteger(parallelism) || parallelism < 1) {
      throw new RangeError(`the worker pool needs a positive whole number of threads, got ${parallelism}`);
    }
    this.name = `worker-threads(${parallelism})`;
    for (let i = 0; i < parallelism; i++) {
      this.workers.push(this.spawn(job, dirs));
      this.queues.push([]);
    }
  }

  private spawn(job: JobSource, dirs: LocalDirs): PoolWorker {
    const worker = new Worker(new URL('./taskWorker.mjs', import.meta.url), { workerData: { job, dirs } });
    let markReady: () => void = () => {};
    let markFailed: (e: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    const entry: PoolWorker = { worker, ready, busy: false };
    worker.on('message', (message: { ready?: true; id?: number; result?: TaskResult }) => {
      if (message.ready) {
        markReady();
        return;
      }
      const waiting = this.pending.get(message.id!);
      this.pending.delete(message.id!);
      entry.busy = false;
      waiting?.resolve(message.result!);
      this.dispatch();
    });
    worker.on('error', (error) => {
      markFailed(error);
      // A thread that dies takes its running tasks with it: fail them as results so the scheduler retries.
      for (const [id, waiting] of this.pending) {
        if ((waiting as { worker?: Worker }).worker === worker) {
          this.pending.delete(id);
          waiting.resolve({
            ok: false,
            stageId: waiting.task.stage.stageId,
            partition: waiting.task.partition,
            error: `worker thread failed: ${error.message}`,
          });
        }
      }
    });
    return entry;
  }

  /** Waits until every thread has built the job graph (or throws the first thread's startup error). */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ready));
  }

  run(task: TaskPlan): Promise<TaskResult> {
    if (this.closed) throw new Error('the worker pool is closed');
    return new Promise((resolve) => {
      this.queues[task.partition % this.workers.length]!.push({ task, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const [i, entry] of this.workers.entries()) {
      if (entry.busy) continue;
      const next = this.queues[i]!.shift();
      if (!next) continue;
      entry.busy = true;
      const id = this.nextId++;
      this.pending.set(
        id,
        Object.assign({ resolve: next.resolve, task: next.task }, { worker: entry.worker }),
      );
      entry.worker.postMessage({ id, task: next.task });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
