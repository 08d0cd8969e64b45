import { type LambdaContextLike, PowertoolsLog } from '../lib/aws/PowertoolsLog';
import { WorkerRuntime } from '../lib/aws/WorkerRuntime';

// Created once per container: the store client, the logger, and each job's graph as its first task arrives.
const runtime = WorkerRuntime.fromEnv(process.env);
const log = PowertoolsLog.forFunction('sluice-worker');

/** The worker Lambda: runs one task of a job plan (`{ jobKey | job, task }`) and returns its TaskResult. */
export const handler = (event: unknown, context?: LambdaContextLike) =>
  runtime.handle(event, log.forInvocation(context));
