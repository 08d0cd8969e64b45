import { defineJob } from '../lib/job/JobModule';

/**
 * The jobs of `bench/windowReduceCost.ts`: a 60 s window sliding every 1 s over generated tweets, counted by user
 * (`WINDOW_USERS` distinct users, default 100 000) or by hashtag, recomputed from the window's reduced batches or
 * incremental (with an inverse function). `WINDOW_RATE` tweets a second (default 50 000). Module-level exports, so
 * worker threads rebuild the same graphs; the settings come from the environment, which they share.
 */
const RATE = Number(process.env.WINDOW_RATE ?? 50_000);
const USERS = Number(process.env.WINDOW_USERS ?? 100_000);
const WINDOW_MS = 60_000;

const add = (a: number, b: number) => a + b;
const subtract = (a: number, b: number) => a - b;
const byUser = (t: { user: string }) => [t.user, 1] as [string, number];
const hashtags = (t: { text: string }) => t.text.split(' ').filter((w) => w.startsWith('#'));
const withOne = (tag: string) => [tag, 1] as [string, number];

function tweets(ssc: Parameters<Parameters<typeof defineJob>[1]>[0]) {
  return ssc.generatorStream({ kind: 'tweets', ratePerSec: RATE, seed: 1, users: USERS });
}

export const usersRecomputed = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  tweets(ssc).map(byUser).reduceByKeyAndWindow(add, WINDOW_MS, 1000).count().collectBatches('keys');
});

export const usersIncremental = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  tweets(ssc).map(byUser).reduceByKeyAndWindow(add, subtract, WINDOW_MS, 1000).count().collectBatches('keys');
});

export const hashtagsRecomputed = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  tweets(ssc)
    .flatMap(hashtags)
    .map(withOne)
    .reduceByKeyAndWindow(add, WINDOW_MS, 1000)
    .count()
    .collectBatches('keys');
});

export const hashtagsIncremental = defineJob({ batchIntervalMs: 1000, defaultPartitions: 2 }, (ssc) => {
  tweets(ssc)
    .flatMap(hashtags)
    .map(withOne)
    .reduceByKeyAndWindow(add, subtract, WINDOW_MS, 1000)
    .count()
    .collectBatches('keys');
});
