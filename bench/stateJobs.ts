import { defineJob } from '../lib/job/JobModule';
import type { Source } from '../lib/source/Source';

/**
 * The jobs of the window and state benchmark (bench/stateBench.ts). Module-level exports, so worker threads
 * rebuild the same graphs.
 */

export const WINDOW_MS = 60_000;
export const TWEETS_PER_SEC = 5_000;
export const STATE_KEYS = 1_000_000;
export const TOUCHED_PER_BATCH = STATE_KEYS / 100;

function hashtags(tweet: { text: string }): string[] {
  return tweet.text.split(' ').filter((w) => w.startsWith('#'));
}
function withOne(tag: string): [string, number] {
  return [tag, 1];
}
function add(a: number, b: number): number {
  return a + b;
}
function subtract(a: number, b: number): number {
  return a - b;
}

/** The sliding hashtag count, incremental: each window = previous − leaving batch + entering batch. */
export const slidingIncremental = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .generatorStream({ kind: 'tweets', ratePerSec: TWEETS_PER_SEC, seed: 1 })
    .flatMap(hashtags)
    .map(withOne)
    .reduceByKeyAndWindow(add, subtract, WINDOW_MS, 1000)
    .count()
    .collectBatches('tags');
});

/** The same count recomputed over the whole window every batch. */
export const slidingRecomputed = defineJob({ batchIntervalMs: 1000 }, (ssc) => {
  ssc
    .generatorStream({ kind: 'tweets', ratePerSec: TWEETS_PER_SEC, seed: 1 })
    .flatMap(hashtags)
    .map(withOne)
    .reduceByKeyAndWindow(add, WINDOW_MS, 1000)
    .count()
    .collectBatches('tags');
});

/** Batch 1 brings every key once; every later batch touches 1% of them. Runs only in the driver. */
class KeyTouchSource implements Source<[number, number]> {
  readonly description = `keys(${STATE_KEYS}, ${TOUCHED_PER_BATCH}/batch)`;
  readonly replayable = true;

  async recordsFor(batchTime: number, intervalMs: number): Promise<[number, number][]> {
    const n = Math.round(batchTime / intervalMs);
    if (n === 1) return Array.from({ length: STATE_KEYS }, (_, k) => [k, 1]);
    // A different 1% slice of the keys each batch (a stride walk, so touched keys spread over partitions).
    return Array.from({ length: TOUCHED_PER_BATCH }, (_, i) => [(i * 100 + n) % STATE_KEYS, 1]);
  }
}

function countUpdate(values: number[], state: number | undefined): number {
  let s = state ?? 0;
  for (const v of values) s += v;
  return s;
}

/** Per-key running counts with updateStateByKey: the function runs for every key, every batch. */
export const stateUpdateStateByKey = defineJob(
  { batchIntervalMs: 1000, checkpointIntervalMs: 1_000_000 },
  (ssc) => {
    ssc.sourceStream(new KeyTouchSource()).updateStateByKey(countUpdate).count().collectBatches('keys');
  },
);

/** The same counts with mapWithState: the function runs for the records of the batch only. */
export const stateMapWithState = defineJob(
  { batchIntervalMs: 1000, checkpointIntervalMs: 1_000_000 },
  (ssc) => {
    ssc
      .sourceStream(new KeyTouchSource())
      .mapWithState<number, number, number, number>({
        fn: (_key, value, state) => {
          const next = (state.exists() ? state.get() : 0) + (value ?? 0);
          state.update(next);
          return next;
        },
      })
      .count()
      .collectBatches('keys');
  },
);

/**
 * Both state operations over the same keys with a given checkpoint interval, for the state-bytes measurement:
 * with an interval of one batch every batch writes a full snapshot (what the serverless runtime wrote before
 * incremental state), with a long one every batch after the first writes a delta.
 */
export function stateBytesJobs(checkpointIntervalMs: number) {
  const options = { batchIntervalMs: 1000, checkpointIntervalMs };
  return {
    updateStateByKey: defineJob(options, (ssc) => {
      ssc.sourceStream(new KeyTouchSource()).updateStateByKey(countUpdate).count().collectBatches('keys');
    }),
    mapWithState: defineJob(options, (ssc) => {
      ssc
        .sourceStream(new KeyTouchSource())
        .mapWithState<number, number, number, number>({
          fn: (_key, value, state) => {
            const next = (state.exists() ? state.get() : 0) + (value ?? 0);
            state.update(next);
            return next;
          },
        })
        .count()
        .collectBatches('keys');
    }),
  };
}
