import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import type { StreamingContext } from '../../lib/StreamingContext';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import type { TaskRunner } from '../../lib/scheduler/TaskRunner';
import type { BlockStore } from '../../lib/storage/BlockStore';

/** What a caller of {@link connectInProcess} may set beyond the store. */
export interface InProcessOptions {
  /** Back memory-level persistence with the store too, as the serverless runtime does. Default false. */
  readonly memoryBackedByStore?: boolean;
  /** Wraps the in-process runner (to record or hold tasks); the job runs through what it returns. */
  readonly wrapRunner?: (inner: TaskRunner) => TaskRunner;
}

/**
 * Connects `ssc` to run its tasks in this thread, with `store` as its block store and its outputs' store, and
 * output sinks that keep nothing (print, jsonl, their positions): what an engine test or bench needs that drives a
 * `JobScheduler` itself and reads its outputs through a listener. Returns the runner the job runs through.
 */
export function connectInProcess(
  ssc: StreamingContext,
  store: BlockStore,
  dir: string,
  options: InProcessOptions = {},
): TaskRunner {
  const inner = new InProcessRunner({
    ...localExecutorEnv({ storeDir: dir, outputDir: dir, baseDir: dir }, ssc.functions),
    store,
  });
  const runner = options.wrapRunner ? options.wrapRunner(inner) : inner;
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner: runner,
    ...(options.memoryBackedByStore ? { memoryBackedByStore: true } : {}),
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  return runner;
}
