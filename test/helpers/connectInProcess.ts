import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import type { StreamingContext } from '../../lib/StreamingContext';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import type { BlockStore } from '../../lib/storage/BlockStore';

/**
 * Connects `ssc` to run its tasks in this thread, with `store` as its block store and its outputs' store, and
 * output sinks that keep nothing (print, jsonl, their positions): what an engine test needs that drives a
 * `JobScheduler` itself and reads its outputs through a listener. Returns the runner.
 */
export function connectInProcess(ssc: StreamingContext, store: BlockStore, dir: string): InProcessRunner {
  const runner = new InProcessRunner({
    ...localExecutorEnv({ storeDir: dir, outputDir: dir, baseDir: dir }, ssc.functions),
    store,
  });
  ssc.connect({
    store,
    outputs: store,
    runner,
    driverRunner: runner,
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  return runner;
}
