import type { AnyFn } from './FnScope';

/** The prefix of the id of `sample`'s partition function: `builtin:sample:<0|1>:<fraction>:<seed>`. */
export const SAMPLE = 'builtin:sample:';

/** The id of `sample`'s partition function: its settings are in the id, so every process derives the same one. */
export function sampleFnId(withReplacement: boolean, fraction: number, seed: number): string {
  return `${SAMPLE}${withReplacement ? 1 : 0}:${fraction}:${seed}`;
}

/** The partition function an id from {@link sampleFnId} names, or undefined when it names none. */
export function samplerOf(id: string): AnyFn | undefined {
  const match = /^builtin:sample:([01]):([^:]+):(-?\d+)$/.exec(id);
  if (!match) return undefined;
  return partitionSampler(match[1] === '1', Number(match[2]), Number(match[3]));
}

/**
 * Spark's `PartitionwiseSampledRDD` partition function: keeps each record with probability `fraction` (a
 * Bernoulli trial, without replacement), or `Poisson(fraction)` copies of it (with replacement). The random
 * numbers of a partition come from `seed` and the partition's index alone, so a retried task, or a worker
 * recomputing a lost partition, keeps the same records as long as the partition holds the same records in the
 * same order (as Spark's does). The generator is not Java's, so the sample is not the one Spark would draw.
 */
export function partitionSampler(withReplacement: boolean, fraction: number, seed: number): AnyFn {
  return (records: readonly unknown[], partition: number) => {
    const random = mulberry32(partitionSeed(seed, partition));
    const out: unknown[] = [];
    for (const record of records) {
      const copies = withReplacement ? poisson(fraction, random) : random() < fraction ? 1 : 0;
      for (let i = 0; i < copies; i++) out.push(record);
    }
    return out;
  };
}

/** The 32-bit seed of one partition: murmur3's finalizer over the seed's two halves and the index. */
function partitionSeed(seed: number, partition: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) | 0;
  return fmix32(low ^ fmix32(high ^ fmix32(partition + 0x9e3779b9)));
}

function fmix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A small, seeded generator of numbers in [0, 1) (mulberry32): `Math.random` cannot be seeded. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * A Poisson(mean) count by Knuth's product of uniforms, in steps of a mean of at most 30: exp(-mean) of a large
 * mean underflows to 0, and the sum of Poisson counts is Poisson with the sum of their means.
 */
function poisson(mean: number, random: () => number): number {
  let count = 0;
  for (let left = mean; left > 0; left -= 30) {
    const limit = Math.exp(-Math.min(left, 30));
    let product = random();
    while (product > limit) {
      count++;
      product *= random();
    }
  }
  return count;
}
