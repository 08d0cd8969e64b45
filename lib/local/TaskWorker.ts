import { parentPort, workerData } from 'node:worker_threads';
import { unsendableResultMessage } from '../errors';
import { TaskExecutor } from '../executor/TaskExecutor';
import { contextFromSource, type JobSource } from '../job/JobSource';
import type { TaskPlan, TaskResult } from '../plan/Plan';
import { type LocalDirs, localExecutorEnv } from './localExecutorEnv';

/** The body of one worker thread: rebuild the job's graph once, then run the tasks the pool sends. */
const { job, dirs } = workerData as { job: JobSource; dirs: LocalDirs };
const ssc = await contextFromSource(job);
const executor = new TaskExecutor(localExecutorEnv(dirs, ssc.functions));

// The pool sends a thread one task at a time, so a result needs no id to find its task.
parentPort!.on('message', async (message: { task: TaskPlan }) => {
  const result = await executor.run(message.task);
  try {
    parentPort!.postMessage({ result });
  } catch (error) {
    // A value no thread can send (a function that a function of the job put in a record): the task fails with
    // the reason, where an uncaught DataCloneError killed the thread and said nothing of why.
    const failed: TaskResult = {
      ok: false,
      stageId: result.stageId,
      partition: result.partition,
      error: unsendableResultMessage('worker thread', error instanceof Error ? error.message : String(error)),
    };
    parentPort!.postMessage({ result: failed });
  }
});
parentPort!.postMessage({ ready: true });
