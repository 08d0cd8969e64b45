import { readFileSync } from 'node:fs';
import { hashtags } from '../../lib/job/builtinFunctions';
import { GeneratorSource } from '../../lib/source/GeneratorSource';

/**
 * The input the deploy tests put into the deployed stream, and what the `events/aws/` jobs must answer for it,
 * computed straight from the records with the same built-in functions, not by the engine.
 */
export interface Tweet {
  readonly user: string;
  readonly text: string;
}

/** `n` deterministic tweets of the built-in generator. */
export function tweets(n: number, seed: number): Tweet[] {
  const generator = new GeneratorSource({ kind: 'tweets', ratePerSec: 100, seed });
  return Array.from({ length: n }, (_, i) => generator.recordAt(i) as unknown as Tweet);
}

/** The users listed in `events/spam.txt`. */
export function spamUsers(): Set<string> {
  const text = readFileSync(new URL('../../events/spam.txt', import.meta.url), 'utf8');
  return new Set(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
  );
}

/** The count of each hashtag over the tweets, as `[tag, count]` pairs in a canonical order. */
export function hashtagCounts(input: readonly Tweet[]): [string, number][] {
  return countsOf(input.flatMap((t) => hashtags(t)));
}

/** The number of tweets of each user, as `[user, count]` pairs in a canonical order. */
export function tweetsPerUser(input: readonly Tweet[]): [string, number][] {
  return countsOf(input.map((t) => t.user));
}

/** `[key, count]` pairs summed over batches (per-batch outputs of a count), in the canonical order. */
export function summed(batches: readonly { records: unknown[] }[]): [string, number][] {
  const totals = new Map<string, number>();
  for (const batch of batches)
    for (const [key, count] of batch.records as [string, number][])
      totals.set(key, (totals.get(key) ?? 0) + count);
  return canonical([...totals]);
}

/** Pairs sorted by key, so outputs in any order compare equal. */
export function canonical(pairs: readonly (readonly [string, number])[]): [string, number][] {
  return pairs
    .map(([k, v]) => [k, v] as [string, number])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function countsOf(keys: readonly string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return canonical([...counts]);
}
