import type { PartitionCache } from '../../lib/dataset/PartitionCache';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import type { Logger } from '../../lib/log/Logger';
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
  /**
   * The memory tier of persisted partitions the tasks use. Give several contexts the same one to play a warm Lambda
   * worker, whose memory outlives the coordinator that sent it tasks. Default: one of its own.
   */
  readonly cache?: PartitionCache;
  /** Where the engine logs (retries, failed cleanups). Default: nowhere. */
  readonly log?: Logger;
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
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const runner = options.wrapRunner ? options.wrapRunner(inner) : inner;
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner: runner,
    ...(options.memoryBackedByStore ? { memoryBackedByStore: true } : {}),
    ...(options.log ? { log: options.log } : {}),
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  return runner;
}
