import { nonFiniteNumbersIn } from './jsonNumber';

/** How a partitioner travels inside a plan. */
export interface PartitionerSpec {
  readonly type: 'hash';
  readonly numPartitions: number;
}

/**
 * Spark's HashPartitioner: a key goes to `hash(key) mod numPartitions`. The hash is computed from the key's
 * value, never from object identity, so every process (thread, Lambda) agrees on where a key lives.
 */
export class HashPartitioner {
  constructor(readonly numPartitions: number) {
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new RangeError(`number of partitions must be a positive integer, got ${numPartitions}`);
    }
  }

  /** Rebuilds a partitioner from its plan form. */
  static fromSpec(spec: PartitionerSpec): HashPartitioner {
    return new HashPartitioner(spec.numPartitions);
  }

  /** The partition a key belongs to. */
  partition(key: unknown): number {
    return this.numPartitions === 1 ? 0 : hashKey(key) % this.numPartitions;
  }

  /** The plan form. */
  toSpec(): PartitionerSpec {
    return { type: 'hash', numPartitions: this.numPartitions };
  }

  /** Two partitioners place every key alike. */
  equals(other: HashPartitioner | undefined): boolean {
    return other !== undefined && other.numPartitions === this.numPartitions;
  }
}

/**
 * The partitioner of a keyed operation (Spark's `partitionBy` argument): the one given, or hash partitioning
 * over the given number of partitions, or over `defaultPartitions` when neither is given.
 */
export function partitionerFor(
  partitioning: number | HashPartitioner | undefined,
  defaultPartitions: number,
): HashPartitioner {
  if (partitioning instanceof HashPartitioner) return partitioning;
  return new HashPartitioner(partitioning ?? defaultPartitions);
}

/** What {@link defaultPartitioner} reads of a dataset: its partitions, and the partitioner that placed them, if any. */
export interface PartitionedParent {
  readonly numPartitions: number;
  readonly partitioner?: PartitionerSpec | undefined;
}

/**
 * Spark's `Partitioner.defaultPartitioner`, with `defaultPartitions` as `spark.default.parallelism` (which Sluice
 * always has): the partitioner of a by-key op on `parents` (a `reduceByKey` on its one parent, a `join` or
 * `cogroup` on all) that names none. The partitioner of the parent with the most partitions among those placed by
 * one, if it has at least `defaultPartitions`, or is within ten times of the partitions of the largest parent;
 * else hash partitioning over `defaultPartitions`. Reusing it is what keeps a parent already placed by key (a
 * state snapshot, a reduced batch, a `partitionBy`-ed static dataset) from being shuffled again.
 */
export function defaultPartitioner(
  parents: readonly PartitionedParent[],
  defaultPartitions: number,
): HashPartitioner {
  let placed: PartitionedParent | undefined;
  let most = 0;
  for (const parent of parents) {
    most = Math.max(most, parent.numPartitions);
    if (parent.partitioner && (!placed || parent.numPartitions > placed.numPartitions)) placed = parent;
  }
  if (placed?.partitioner) {
    // Spark's isEligiblePartitioner: log10(most) - log10(placed) < 1, i.e. within one order of magnitude.
    const eligible = Math.log10(most) - Math.log10(placed.numPartitions) < 1;
    if (eligible || placed.numPartitions >= defaultPartitions)
      return HashPartitioner.fromSpec(placed.partitioner);
  }
  return new HashPartitioner(defaultPartitions);
}

/** A stable, non-negative 31-bit hash of a key's value (FNV-1a over a canonical text form). */
export function hashKey(key: unknown): number {
  if (typeof key === 'number' && Number.isInteger(key)) return Math.abs(key | 0) & 0x7fffffff;
  const text = typeof key === 'string' ? key : canonicalKey(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

/**
 * A text form of any key that is equal for equal values; strings and numbers stay distinguishable, and so do
 * composite keys that differ by an Infinity, -Infinity or NaN where the other holds null (JSON writes all four as
 * null: their names follow the text, which only a key whose text holds a `null` is walked to find).
 */
export function canonicalKey(key: unknown): string {
  if (key === null || key === undefined) return '\u0000null';
  if (typeof key === 'string') return key;
  if (typeof key === 'object') {
    const text = JSON.stringify(key);
    if (!text.includes('null')) return `\u0000${text}`;
    const numbers = nonFiniteNumbersIn(key);
    return numbers.length === 0 ? `\u0000${text}` : `\u0000${text}\u0000${JSON.stringify(numbers)}`;
  }
  return `\u0000${String(key)}`;
}
