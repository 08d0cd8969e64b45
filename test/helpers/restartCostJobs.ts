import type { State } from '../../lib/dstream/StateSpec';
import { defineJob } from '../../lib/job/JobModule';

/**
 * The three streams built from their own previous dataset (updateStateByKey, mapWithState, an incremental window),
 * over a generated word per batch: what a restart must not rebuild back to the job's first batch.
 * Module-level exports so that worker threads rebuild the same graph.
 */
export const selfBuiltStreams = defineJob({ batchIntervalMs: 1000, checkpointIntervalMs: 4000 }, (ssc) => {
  const words = ssc
    .generatorStream({ kind: 'lines', ratePerSec: 3, seed: 1 })
    .map((line: string) => [line.length % 4, 1] as [number, number]);
  words
    .updateStateByKey((values: number[], total?: number) => (total ?? 0) + values.length)
    .collectBatches('totals');
  words
    .mapWithState({
      fn: (key: number, value: number | undefined, state: State<number>) => {
        const seen = (state.exists() ? state.get() : 0) + (value ?? 0);
        state.update(seen);
        return [key, seen] as [number, number];
      },
    })
    .stateSnapshots()
    .collectBatches('seen');
  words
    .reduceByKeyAndWindow(
      (a: number, b: number) => a + b,
      (a: number, b: number) => a - b,
      3000,
      1000,
    )
    .collectBatches('window');
});
