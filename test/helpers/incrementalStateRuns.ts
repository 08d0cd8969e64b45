import type { State } from '../../lib/dataset/State';
import type { OutputEvent } from '../../lib/dstream/DStreamOps';
import { contextFromModule, defineJob, type JobModule } from '../../lib/job/JobModule';
import { localExecutorEnv } from '../../lib/local/localExecutorEnv';
import { readCheckpoint } from '../../lib/scheduler/CheckpointData';
import { LogicalClock } from '../../lib/scheduler/Clock';
import { InProcessRunner } from '../../lib/scheduler/InProcessRunner';
import { JobScheduler } from '../../lib/scheduler/JobScheduler';
import type { BlockStore } from '../../lib/storage/BlockStore';
import { CountingStore } from './CountingStore';

/**
 * Runs `job` up to batch `batches` against `store` with memory backed by the store (the serverless runtime's
 * setting), resuming from the store's metadata checkpoint when there is one. Every call is a restarted
 * coordinator with fresh task containers: a new context and a new executor, nothing in memory. `scratchDir` is
 * where the executor's static files and outputs would go (none here). `refusePut` fails chosen writes.
 */
export async function runStateJob(
  job: JobModule,
  store: BlockStore,
  scratchDir: string,
  batches: number,
  refusePut?: (key: string) => boolean,
) {
  const ssc = contextFromModule(job);
  const counting = new CountingStore(store, refusePut);
  const runner = new InProcessRunner({
    ...localExecutorEnv({ storeDir: scratchDir, outputDir: scratchDir, baseDir: scratchDir }, ssc.functions),
    store: counting,
  });
  ssc.connect({
    store: counting,
    outputs: counting,
    runner,
    driverRunner: runner,
    memoryBackedByStore: true,
    print: () => {},
    appendJsonl: async () => {},
    outputPositions: async () => ({}),
    restoreOutputPositions: async () => {},
  });
  const outputs: OutputEvent[] = [];
  ssc.addListener({ onOutput: (e) => outputs.push(e) });
  const scheduler = new JobScheduler(ssc, new LogicalClock(), { name: 'incremental-state' });
  for (const input of ssc.graph.inputs) await input.source.start?.({ intervalMs: 1000, logicalClock: true });
  const checkpoint = await readCheckpoint(counting);
  if (checkpoint) await scheduler.restore(checkpoint);
  const summary = await scheduler.run({ batches });
  for (const input of ssc.graph.inputs) await input.source.stop?.();
  return { summary, outputs, store: counting };
}

/** Each output's records by batch, order-free; a batch run again (after a restart) replaces its first run. */
export function outputsByBatch(...runs: Array<{ outputs: OutputEvent[] }>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const run of runs) {
    for (const e of run.outputs) {
      out[`${e.output}@${e.batchTime}`] = [...e.records].map((r) => JSON.stringify(r)).sort();
    }
  }
  return out;
}

type Pair = [string, number];
/** Keys in state after batch 1. */
export const MANY_KEYS = 20_000;
/** Keys each later batch touches. */
export const TOUCHED_KEYS = 10;
/**
 * Batches of the many-keys jobs: batch 1 brings 20,000 keys, each of the 24 later ones touches 10 (more than the
 * 20 generations after which mapWithState flattens its chain of state maps, which must not make a batch write
 * everything).
 */
export const MANY_KEYS_BATCHES = 25;
const manyKeysInput: Pair[][] = [
  Array.from({ length: MANY_KEYS }, (_, i) => [`key${i}`, 1] as Pair),
  ...Array.from({ length: MANY_KEYS_BATCHES - 1 }, (_, b) =>
    Array.from({ length: TOUCHED_KEYS }, (_, i) => [`key${(b * 4099 + i * 37) % MANY_KEYS}`, 1] as Pair),
  ),
];

/** Both state operations over the many-keys input; checkpoints are past the run, so only batch 1 is full. */
export const manyKeysJobs = {
  mapWithState: defineJob(
    { batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs: 1_000_000 },
    (ssc) => {
      ssc
        .queueStream(manyKeysInput)
        .mapWithState({
          fn: (key: string, value: number | undefined, state: State<number>) => {
            state.update((state.exists() ? state.get() : 0) + value!);
            return key;
          },
        })
        .collectBatches('calls');
    },
  ),
  updateStateByKey: defineJob(
    { batchIntervalMs: 1000, defaultPartitions: 2, checkpointIntervalMs: 1_000_000 },
    (ssc) => {
      ssc
        .queueStream(manyKeysInput)
        .updateStateByKey((values: number[], count: number | undefined) => (count ?? 0) + values.length)
        .count()
        .collectBatches('keys');
    },
  ),
};
