import { parentPort, workerData } from 'node:worker_threads';
import { TaskExecutor } from '../executor/TaskExecutor';
import { contextFromSource, type JobSource } from '../job/JobSource';
import type { TaskPlan } from '../plan/Plan';
import { type LocalDirs, localExecutorEnv } from './localExecutorEnv';

/** The body of one worker thread: rebuild the job's graph once, then run the tasks the pool sends. */
const { job, dirs } = workerData as { job: JobSource; dirs: LocalDirs };
const ssc = await contextFromSource(job);
const executor = new TaskExecutor(localExecutorEnv(dirs, ssc.functions));

// The pool sends a thread one task at a time, so a result needs no id to find its task.
parentPort!.on('message', async (message: { task: TaskPlan }) => {
  const result = await executor.run(message.task);
  parentPort!.postMessage({ result });
});
parentPort!.postMessage({ ready: true });
