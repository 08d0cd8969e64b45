import { WorkerRuntime } from '../lib/aws/WorkerRuntime';

// Created once per container: the store client, and each job's graph as its first task arrives.
const runtime = WorkerRuntime.fromEnv(process.env);

/** The worker Lambda: runs one task of a job plan (`{ jobKey | job, task }`) and returns its TaskResult. */
export const handler = (event: unknown) => runtime.handle(event);
