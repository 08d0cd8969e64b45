/**
 * The soak's job: an incremental sliding window (reduceByKeyAndWindow with an inverse), a running count per user
 * (updateStateByKey) and a session per user with a timeout (mapWithState), over generated tweets. Everything that
 * could grow with the number of batches is in it: window lineage, state, state checkpoints, input, outputs.
 */
import type { State } from '../lib/dataset/State';
import { defineJob } from '../lib/job/JobModule';

interface Tweet {
  readonly user: string;
  readonly text: string;
}

export const soak = defineJob({ batchIntervalMs: 1000, checkpointIntervalMs: 10_000 }, (ssc) => {
  const tweets = ssc.generatorStream({ kind: 'tweets', ratePerSec: 200, seed: 7, users: 500 }, 2);
  tweets
    .flatMap((t: Tweet) => t.text.split(' ').filter((w) => w.startsWith('#')))
    .map((tag): [string, number] => [tag, 1])
    .reduceByKeyAndWindow(
      (a: number, b: number) => a + b,
      (a: number, b: number) => a - b,
      30_000,
      1000,
      2,
      ([, n]) => n > 0, // tags that left the window go, so the window's state follows the window, not the run
    )
    .count()
    .collectBatches('tags');
  const byUser = tweets.map((t: Tweet): [string, number] => [t.user, 1]);
  byUser
    .updateStateByKey((values: number[], state: number | undefined) => (state ?? 0) + values.length)
    .count()
    .collectBatches('users');
  byUser
    .mapWithState({
      timeoutMs: 20_000,
      fn: (_user: string, value: number | undefined, state: State<number>) => {
        if (state.isTimingOut()) return 0;
        const n = (state.exists() ? state.get() : 0) + (value ?? 0);
        state.update(n);
        return n;
      },
    })
    .count()
    .collectBatches('sessions');
});
