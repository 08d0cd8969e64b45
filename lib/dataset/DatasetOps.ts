/**
 * The transformations and actions of `Dataset`, Spark's RDD API. They live here, added to the prototype,
 * because they construct the subclasses, and the subclasses extend `Dataset`: defining both in one module
 * graph without this split would be an import cycle that ESM resolves in the wrong order.
 */

import { CartesianDataset } from './CartesianDataset';
import { CoalescedDataset } from './CoalescedDataset';
import { CoGroupedDataset } from './CoGroupedDataset';
import { CombinedInPlaceDataset } from './CombinedInPlaceDataset';
import { firstValueOf } from './checkedReducer';
import { Dataset } from './Dataset';
import {
  type AggregatorSpec,
  CartesianDependency,
  CoalesceDependency,
  type Dependency,
  OneToOneDependency,
  RangeDependency,
  ShuffleDependency,
} from './Dependency';
import { defineMethod } from './defineMethod';
import { type AnyFn, FIRST_BY_KEY, KEY_BY, ZIP_WITH_INDEX } from './FnScope';
import { KeyedMap } from './KeyedMap';
import { type MapKind, MapPartitionsDataset } from './MapPartitionsDataset';
import { defaultPartitioner, HashPartitioner, partitionerFor } from './Partitioner';
import { PartitionerAwareUnionDataset } from './PartitionerAwareUnionDataset';
import { sampleFnId } from './PartitionSampler';
import { pairOf } from './pairOf';
import { ShuffledDataset } from './ShuffledDataset';
import { STORAGE_LEVELS, type StorageLevel } from './StorageLevel';
import { UnionDataset } from './UnionDataset';
import { ValueMap } from './ValueMap';
import { compareValues } from './valueOrder';
import { zeroCopier } from './zeroValue';

/** A function, or the id of one the graph registered already. */
export type FnLike = AnyFn | { readonly fnId: string };

/**
 * What `mapPartitions` applies to a partition: its records and index, and `fail(record, error)` to dead-letter a
 * record; it returns the partition's new records, or a promise of them.
 */
export type PartitionFn<T, U> = (
  records: T[],
  partition: number,
  fail: (record: unknown, error: unknown) => void,
) => Iterable<U> | Promise<Iterable<U>>;

/**
 * A number of partitions or a partitioner, as Spark's pair operations take. A by-key op given none takes Spark's
 * default partitioner of its parents (see `defaultPartitioner`): the partitioner of a parent already placed by key
 * (the largest such), else hash partitioning over the context's `defaultPartitions`.
 */
export type Partitioning = number | HashPartitioner;

declare module './Dataset' {
  interface Dataset<T> {
    /** Applies `f` to every record. */
    map<U>(f: ((t: T) => U | Promise<U>) | { fnId: string }): Dataset<U>;
    /** Applies `f` to every record and flattens the results. */
    flatMap<U>(f: ((t: T) => Iterable<U> | Promise<Iterable<U>>) | { fnId: string }): Dataset<U>;
    /** Keeps the records for which `f` is true. */
    filter(f: ((t: T) => unknown) | { fnId: string }): Dataset<T>;
    /**
     * Applies `f` to each whole partition; `f` may return a promise, and dead-letters a record itself with
     * `fail(record, error)`. Set `preservesPartitioning` (default false) when `f` keeps every
     * record under its key, so the result keeps the parent's partitioner (Spark's argument of that name).
     */
    mapPartitions<U>(f: PartitionFn<T, U> | { fnId: string }, preservesPartitioning?: boolean): Dataset<U>;
    /** Turns each partition into one record: the array of its records. */
    glom(): Dataset<T[]>;
    /** Maps the value of every `[key, value]` record. */
    mapValues<K, V, W>(this: Dataset<[K, V]>, f: ((v: V) => W) | { fnId: string }): Dataset<[K, W]>;
    /** Maps the value of every `[key, value]` record to several values. */
    flatMapValues<K, V, W>(
      this: Dataset<[K, V]>,
      f: ((v: V) => Iterable<W>) | { fnId: string },
    ): Dataset<[K, W]>;
    /** The records of this dataset and the others, partitions side by side. */
    union(...others: Dataset<T>[]): Dataset<T>;
    /** Spreads the records evenly over `numPartitions` partitions (a shuffle). */
    repartition(numPartitions: number): Dataset<T>;
    /**
     * Fewer partitions without a shuffle (Spark's `coalesce`): partition i of `numPartitions` is a run of
     * consecutive partitions of this dataset, concatenated in order, in one task. Asked for more partitions than it
     * has, the dataset keeps its count, as Spark's does. With `shuffle` (default false) it is `repartition`.
     *
     * @example
     * await ds.coalesce(1).foreachPartition(writeFile); // one call, every record in partition order, no shuffle
     */
    coalesce(numPartitions: number, shuffle?: boolean): Dataset<T>;
    /**
     * Every pair `[a, b]` of a record of this dataset and one of `other` (Spark's `cartesian`): m × n partitions,
     * partition i·n + j pairing partition i of this with partition j of `other`, which each of its tasks computes.
     *
     * @example
     * users.cartesian(products); // [user, product] for every user and every product
     */
    cartesian<U>(other: Dataset<U>): Dataset<[T, U]>;
    /**
     * Places every `[key, value]` record by key (Spark's `partitionBy`): a shuffle, unless the dataset is already
     * placed by an equal partitioner. A later join, cogroup or lookup with that partitioner reads it in place.
     */
    partitionBy<K, V>(this: Dataset<[K, V]>, partitioning: Partitioning): Dataset<[K, V]>;
    /** Spark's combineByKey; `mapSideCombine` defaults to true. */
    combineByKey<K, V, C>(
      this: Dataset<[K, V]>,
      createCombiner: ((v: V) => C) | { fnId: string },
      mergeValue: ((c: C, v: V) => C) | { fnId: string },
      mergeCombiners: ((a: C, b: C) => C) | { fnId: string },
      partitioning?: Partitioning,
      mapSideCombine?: boolean,
    ): Dataset<[K, C]>;
    /** Merges the values of each key with an associative function. */
    reduceByKey<K, V>(
      this: Dataset<[K, V]>,
      f: ((a: V, b: V) => V) | { fnId: string },
      partitioning?: Partitioning,
    ): Dataset<[K, V]>;
    /** Groups the values of each key. */
    groupByKey<K, V>(this: Dataset<[K, V]>, partitioning?: Partitioning): Dataset<[K, V[]]>;
    /** Groups this dataset and another by key, as Spark's `cogroup(other)`: `[key, [values of this, values of other]]`. */
    cogroup<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, [V[], W[]]]>;
    /** Groups this dataset and the others by key: `[key, [values of this, values of other, …]]`. */
    cogroup<K>(
      this: Dataset<[K, unknown]>,
      others: Dataset<[K, unknown]>[],
      partitioning?: Partitioning,
    ): Dataset<[K, unknown[][]]>;
    /** Inner join by key: `[key, [v, w]]`. */
    join<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, [V, W]]>;
    /** Left outer join: a missing right value is null. */
    leftOuterJoin<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, [V, W | null]]>;
    /** Right outer join: a missing left value is null. */
    rightOuterJoin<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, [V | null, W]]>;
    /** Full outer join: a missing value on either side is null. */
    fullOuterJoin<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, [V | null, W | null]]>;
    /**
     * The pairs whose key `other` does not have (Spark's `subtractByKey`); by default placed as this dataset is (its
     * partitioner, or as many partitions), as Spark's.
     */
    subtractByKey<K, V, W>(
      this: Dataset<[K, V]>,
      other: Dataset<[K, W]>,
      partitioning?: Partitioning,
    ): Dataset<[K, V]>;
    /**
     * The records ordered by `f(record)` (numbers or strings), in one partition: meant for the small results a
     * job prints, such as the top hashtags. `f` may return a promise.
     */
    sortBy(f: ((t: T) => unknown) | { fnId: string }, ascending?: boolean): Dataset<T>;
    /**
     * The pairs ordered by key (Spark's `sortByKey`), as `sortBy` orders them, in one partition: Spark's range
     * partitioning samples the keys with a job first, and a `transform` body runs no job. A record that is not a
     * pair is a dead letter.
     *
     * @example
     * // the top hashtags of a window, as Spark's TwitterPopularTags: [count, tag] pairs, the highest count first
     * counts.map(([tag, n]) => [n, tag] as [number, string]).transform((rdd) => rdd.sortByKey(false));
     */
    sortByKey<K, V>(this: Dataset<[K, V]>, ascending?: boolean): Dataset<[K, V]>;
    /** Each record paired with its key `f(record)`: `[f(record), record]` (Spark's `keyBy`). */
    keyBy<K>(f: ((t: T) => K) | { fnId: string }): Dataset<[K, T]>;
    /** Keeps the partitions once computed; default level `memory` (Spark's persist). */
    persist(level?: StorageLevel): Dataset<T>;
    /** `persist('memory')`. */
    cache(): Dataset<T>;
    /** Every record, in partition order (an action: runs a job). */
    collect(): Promise<T[]>;
    /** The number of records (an action). */
    count(): Promise<number>;
    /**
     * The first `n` records in partition order (an action). As in Spark, `n` of 0 or less takes none; `n` must be
     * a whole number.
     */
    take(n: number): Promise<T[]>;
    /** True when the dataset has no record (an action). */
    isEmpty(): Promise<boolean>;
    /**
     * The first record in partition order (an action); as in Spark, an empty dataset has none and this throws
     * (use `take(1)` where a batch may be empty).
     */
    first(): Promise<T>;
    /**
     * The `n` largest records by `key` (default: the record itself), largest first (an action; Spark's `top`
     * with `Ordering.by(key)`). Keys order as `sortBy`'s do; each partition keeps its own `n` before the
     * driver merges them, so only `n` records per partition travel. A record whose key function throws is a
     * dead letter.
     *
     * @example
     * const top3 = await counts.top(3, ([, n]) => n); // [[word, count], …], the highest count first
     */
    top(n: number, key?: (t: T) => unknown): Promise<T[]>;
    /** The `n` smallest records by `key` (default: the record itself), smallest first (an action; Spark's `takeOrdered`). */
    takeOrdered(n: number, key?: (t: T) => unknown): Promise<T[]>;
    /**
     * The largest record by `key` (default: the record itself), ordered as `top` orders (an action; Spark's `max`
     * with `Ordering.by(key)`). It throws for a dataset with no record, as Spark's does.
     */
    max(key?: (t: T) => unknown): Promise<T>;
    /** The smallest record by `key` (default: the record itself), as `max` (an action; Spark's `min`). */
    min(key?: (t: T) => unknown): Promise<T>;
    /**
     * Calls `f` once per partition with the partition's records (an action; Spark's `foreachPartition`): the
     * place to open one connection to an external sink per partition rather than per record. `f` may return
     * a promise, which is awaited. A throw fails the partition's task, which is retried, as in Spark.
     *
     * @example
     * await ds.foreachPartition(async (records) => { const c = await connect(); await c.send(records); await c.close(); });
     */
    foreachPartition(f: (records: T[], partition: number) => unknown): Promise<void>;
    /** Calls `f` on every record (an action; Spark's `foreach`); a returned promise is awaited before the next record. */
    foreach(f: (record: T) => unknown): Promise<void>;
    /**
     * The distinct records, compared by value as keys are (Spark's `distinct`, which is a `reduceByKey` on
     * `[record, null]`): a shuffle into `partitioning` partitions (default: as many as this dataset has, as Spark's).
     */
    distinct(partitioning?: Partitioning): Dataset<T>;
    /** The key of every `[key, value]` record (Spark's `keys`); a record that is not a pair is a dead letter. */
    keys<K>(this: Dataset<[K, unknown]>): Dataset<K>;
    /** The value of every `[key, value]` record (Spark's `values`). */
    values<V>(this: Dataset<[unknown, V]>): Dataset<V>;
    /**
     * Folds the values of each key into a copy of `zero` with `f` (Spark's `foldByKey`, a `combineByKey` whose
     * combiner starts as `f(copy of zero, first value)`). Each key, on each side of the shuffle, gets its own copy
     * (`structuredClone`, as Spark deserializes one), so `f` may mutate its accumulator. A value `f` throws on
     * is a dead letter and the key's fold goes on without it.
     *
     * @example
     * // tagLists: Dataset<[string, string[]]>; acc is each key's own copy of [], so pushing into it is safe
     * const tags = tagLists.foldByKey([] as string[], (acc, more) => { acc.push(...more); return acc; });
     */
    foldByKey<K, V>(
      this: Dataset<[K, V]>,
      zero: V,
      f: ((a: V, b: V) => V) | { fnId: string },
      partitioning?: Partitioning,
    ): Dataset<[K, V]>;
    /**
     * Aggregates the values of each key into a result of another type (Spark's `aggregateByKey`): `seqOp` folds
     * a value into a copy of `zero` on the map side, `combOp` merges two partial results after the shuffle.
     * Copies of `zero` are made as `foldByKey`'s are; a value `seqOp` throws on is a dead letter.
     *
     * @example
     * const sumAndCount = pairs.aggregateByKey(
     *   [0, 0] as [number, number],
     *   ([sum, n], v) => [sum + v, n + 1] as [number, number],
     *   ([s1, n1], [s2, n2]) => [s1 + s2, n1 + n2] as [number, number],
     * ); // [key, [sum, count]], the mean is one mapValues away
     */
    aggregateByKey<K, V, U>(
      this: Dataset<[K, V]>,
      zero: U,
      seqOp: ((u: U, v: V) => U) | { fnId: string },
      combOp: ((a: U, b: U) => U) | { fnId: string },
      partitioning?: Partitioning,
    ): Dataset<[K, U]>;
    /**
     * The records `other` does not have, compared by value as keys are (Spark's `subtract`: a `subtractByKey` of
     * `[record, null]` pairs), every copy of each kept; a shuffle into `partitioning` partitions (default: as many
     * as this dataset has, as Spark's).
     */
    subtract(other: Dataset<T>, partitioning?: Partitioning): Dataset<T>;
    /**
     * The distinct records both datasets have, compared by value (Spark's `intersection`: a `cogroup` of
     * `[record, null]` pairs that keeps the records on both sides); partitions as `subtract`'s.
     */
    intersection(other: Dataset<T>, partitioning?: Partitioning): Dataset<T>;
    /**
     * A random sample (Spark's `sample`): each record kept with probability `fraction` in [0, 1], or, with
     * replacement, kept a Poisson(`fraction`) number of times (`fraction` ≥ 0 is then the expected copies). The
     * draws of a partition depend only on `seed` and the partition's index, so a retried task keeps the same
     * records; the generator is not Java's, so it is not the sample Spark draws for that seed. `seed` defaults
     * to a random one, drawn once here, in the driver.
     *
     * @example
     * ds.sample(false, 0.01, 42); // about 1% of the records, the same ones on every attempt
     */
    sample(withReplacement: boolean, fraction: number, seed?: number): Dataset<T>;
    /**
     * Each record paired with its index, `[record, index]`, numbered in partition order (Spark's `zipWithIndex`).
     * As in Spark, a dataset of more than one partition is computed once by a job that counts its partitions
     * (persist it to compute it only once), so this is an action in disguise: it returns a promise, and belongs
     * in `foreachRDD`, where actions may run (a `transform` body may not run one). The records of a partition
     * must come in the same order both times, as Spark requires.
     *
     * @example
     * const numbered = await ds.zipWithIndex(); // [[first, 0], [second, 1], …]
     */
    zipWithIndex(): Promise<Dataset<[T, number]>>;
    /**
     * The records combined with `f`, an associative and commutative function (an action; Spark's `reduce`): each
     * partition reduces its own records, the driver the partitions' results. A record `f` throws on is a dead
     * letter and the reduction goes on without it. As in Spark, an empty dataset has no reduction and this
     * throws (use `fold` where a batch may be empty).
     */
    reduce(f: (a: T, b: T) => T): Promise<T>;
    /**
     * The records folded into `zero` with `f` (an action; Spark's `fold`): each partition folds into its own copy
     * of `zero`, and the driver folds the partitions' results into another, so an empty dataset gives `zero`.
     * Copies are made as `foldByKey`'s are; a record `f` throws on is a dead letter.
     */
    fold(zero: T, f: (a: T, b: T) => T): Promise<T>;
    /**
     * The records aggregated into a result of another type (an action; Spark's `aggregate`): `seqOp` folds each
     * partition's records into a copy of `zero`, `combOp` merges the partitions' results into another copy.
     *
     * @example
     * const [sum, n] = await ds.aggregate([0, 0], ([s, c], x) => [s + x, c + 1], ([s1, c1], [s2, c2]) => [s1 + s2, c1 + c2]);
     */
    aggregate<U>(zero: U, seqOp: (u: U, t: T) => U, combOp: (a: U, b: U) => U): Promise<U>;
    /**
     * The number of records of each key (an action; Spark's `countByKey`, a `reduceByKey` of ones collected to
     * the driver), as a {@link ValueMap}: a read-only `Map` whose keys compare by value, as the shuffle's do, so
     * `counts.get(['eu', 7])` finds the key a JS `Map` would not. A record that is not a pair is a dead letter.
     *
     * @example
     * const counts = await pairs.countByKey(); // counts.get('a') === 2
     */
    countByKey<K>(this: Dataset<[K, unknown]>, partitioning?: Partitioning): Promise<ValueMap<K, number>>;
    /** The number of times each distinct record occurs (an action; Spark's `countByValue`), as `countByKey`'s map. */
    countByValue(partitioning?: Partitioning): Promise<ValueMap<T, number>>;
    /**
     * The pairs as a {@link ValueMap} keyed by value (an action; Spark's `collectAsMap`): a key seen twice keeps
     * its last value in partition order, as Spark's does. A record that is not a pair is a dead letter.
     */
    collectAsMap<K, V>(this: Dataset<[K, V]>): Promise<ValueMap<K, V>>;
    /** Every value of `key`, compared by value, in partition order (an action; Spark's `lookup`). */
    lookup<K, V>(this: Dataset<[K, V]>, key: K): Promise<V[]>;
  }
}

const define = (name: string, method: (this: Dataset<any>, ...args: any[]) => unknown) =>
  defineMethod(Dataset.prototype, name, method);

function fnIdOf(ds: Dataset<any>, f: FnLike): string {
  if (typeof f === 'function') return ds.driverContext().scope.register(f);
  if (f && typeof f === 'object' && typeof f.fnId === 'string') return f.fnId;
  throw new TypeError(`expected a function, got ${typeof f}`);
}

function narrow(
  ds: Dataset<any>,
  kind: MapKind,
  f: FnLike | undefined,
  preservesPartitioning = false,
): Dataset<any> {
  const { ctx, scope } = ds.driverContext();
  const fnId = f === undefined ? '' : fnIdOf(ds, f);
  // Like Spark, operations that cannot move a record to another key keep the parent's partitioner.
  const keepsKeys =
    kind === 'filter' || kind === 'mapValues' || kind === 'flatMapValues' || preservesPartitioning;
  return new MapPartitionsDataset(
    {
      ctx,
      scope,
      deps: [new OneToOneDependency(ds)],
      numPartitions: ds.numPartitions,
      partitioner: keepsKeys ? ds.partitioner : undefined,
    },
    kind,
    fnId,
  );
}

/**
 * The partitioner of a by-key op on `ds` (and `others`, for a cogroup): the one `partitioning` names, or, when it
 * names none, Spark's `defaultPartitioner` of the parents, which reuses a parent's partitioner. A DStream op names
 * one always (the context's `defaultPartitions` where the user gave none), as Spark Streaming's do.
 */
function partitionerOf(
  ds: Dataset<any>,
  partitioning: Partitioning | undefined,
  others: readonly Dataset<any>[] = [],
): HashPartitioner {
  const { defaultPartitions } = ds.driverContext().ctx;
  return partitioning === undefined
    ? defaultPartitioner([ds, ...others], defaultPartitions)
    : partitionerFor(partitioning, defaultPartitions);
}

for (const kind of ['map', 'flatMap', 'filter', 'mapPartitions', 'mapValues', 'flatMapValues'] as const) {
  define(kind, function (this: Dataset<any>, f: FnLike, preservesPartitioning?: boolean) {
    return narrow(this, kind, f, kind === 'mapPartitions' && preservesPartitioning === true);
  });
}

define('glom', function (this: Dataset<any>) {
  return narrow(this, 'glom', undefined);
});

define('union', function (this: Dataset<any>, ...others: Dataset<any>[]) {
  const { ctx, scope } = this.driverContext();
  const all = [this, ...others];
  const partitioner = this.partitioner;
  if (partitioner && all.every((d) => d.isPlacedBy(partitioner))) {
    return new PartitionerAwareUnionDataset({
      ctx,
      scope,
      deps: all.map((d) => new OneToOneDependency(d)),
      numPartitions: partitioner.numPartitions,
      partitioner,
    });
  }
  const deps: RangeDependency[] = [];
  let at = 0;
  for (const parent of [this, ...others]) {
    deps.push(new RangeDependency(parent, 0, at, parent.numPartitions));
    at += parent.numPartitions;
  }
  return new UnionDataset({ ctx, scope, deps, numPartitions: at });
});

define('repartition', function (this: Dataset<any>, numPartitions: number) {
  const { ctx, scope } = this.driverContext();
  const dep = new ShuffleDependency(this, ctx.newShuffleId(), new HashPartitioner(numPartitions), false);
  return new ShuffledDataset({ ctx, scope, deps: [dep], numPartitions }, undefined, false);
});

define('coalesce', function (this: Dataset<any>, numPartitions: number, shuffle = false) {
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(
      `coalesce needs a whole number of partitions, 1 or more, got ${String(numPartitions)}`,
    );
  }
  if (typeof shuffle !== 'boolean')
    throw new TypeError(`coalesce's shuffle must be true or false, got ${String(shuffle)}`);
  if (shuffle) return this.repartition(numPartitions);
  const { ctx, scope } = this.driverContext();
  // Spark's CoalescedRDD: never more partitions than the parent has; and no partitioner, as Spark's has none.
  const count = Math.min(numPartitions, this.numPartitions);
  return new CoalescedDataset({
    ctx,
    scope,
    deps: [new CoalesceDependency(this, count)],
    numPartitions: count,
  });
});

define('cartesian', function (this: Dataset<any>, other: Dataset<any>) {
  if (!(other instanceof Dataset)) throw new TypeError(`cartesian needs a dataset, got ${String(other)}`);
  const { ctx, scope } = this.driverContext();
  const n = other.numPartitions;
  const deps = [new CartesianDependency(this, 'first', n), new CartesianDependency(other, 'second', n)];
  return new CartesianDataset({ ctx, scope, deps, numPartitions: this.numPartitions * n });
});

define('partitionBy', function (this: Dataset<[unknown, unknown]>, partitioning: Partitioning) {
  if (partitioning === undefined)
    throw new TypeError('partitionBy needs a number of partitions or a partitioner');
  const partitioner = partitionerOf(this, partitioning);
  if (this.isPlacedBy(partitioner)) return this;
  const { ctx, scope } = this.driverContext();
  const dep = new ShuffleDependency(this, ctx.newShuffleId(), partitioner, true);
  return new ShuffledDataset(
    { ctx, scope, deps: [dep], numPartitions: partitioner.numPartitions, partitioner: partitioner.toSpec() },
    undefined,
    false,
  );
});

define(
  'combineByKey',
  function (
    this: Dataset<any>,
    createCombiner: FnLike,
    mergeValue: FnLike,
    mergeCombiners: FnLike,
    partitioning?: Partitioning,
    mapSideCombine = true,
  ) {
    const { ctx, scope } = this.driverContext();
    const aggregator: AggregatorSpec = {
      createCombiner: fnIdOf(this, createCombiner),
      mergeValue: fnIdOf(this, mergeValue),
      mergeCombiners: fnIdOf(this, mergeCombiners),
    };
    const partitioner = partitionerOf(this, partitioning);
    if (this.isPlacedBy(partitioner)) {
      // Every key is in one partition already (a window over a reduced stream, a second reduceByKey): combine
      // each partition in place, as Spark does, instead of shuffling it again.
      return new CombinedInPlaceDataset(
        {
          ctx,
          scope,
          deps: [new OneToOneDependency(this)],
          numPartitions: partitioner.numPartitions,
          partitioner: partitioner.toSpec(),
        },
        aggregator,
      );
    }
    const dep = new ShuffleDependency(
      this,
      ctx.newShuffleId(),
      partitioner,
      true,
      aggregator,
      mapSideCombine,
    );
    // The shuffle placed every key by the partitioner, so the result carries it, as Spark's ShuffledRDD does: a
    // later cogroup, join or union with the same partitioner reads it in place instead of shuffling it again.
    return new ShuffledDataset(
      {
        ctx,
        scope,
        deps: [dep],
        numPartitions: partitioner.numPartitions,
        partitioner: partitioner.toSpec(),
      },
      aggregator,
      mapSideCombine,
    );
  },
);

define('reduceByKey', function (this: Dataset<[unknown, unknown]>, f: FnLike, partitioning?: Partitioning) {
  const id = { fnId: fnIdOf(this, f) };
  const check = firstValueOf(f);
  const create = check ? { fnId: fnIdOf(this, check) } : { fnId: 'builtin:identity' };
  return this.combineByKey(create, id, id, partitioning, true);
});

define('groupByKey', function (this: Dataset<[unknown, unknown]>, partitioning?: Partitioning) {
  return this.combineByKey(
    { fnId: 'builtin:groupCreate' },
    { fnId: 'builtin:groupMerge' },
    { fnId: 'builtin:groupCombine' },
    partitioning,
    false,
  );
});

define(
  'cogroup',
  function (this: Dataset<any>, otherOrOthers: Dataset<any> | Dataset<any>[], partitioning?: Partitioning) {
    // Spark's cogroup takes one to three datasets as arguments; an array takes any number (none: state's first batch).
    const others = Array.isArray(otherOrOthers) ? otherOrOthers : [otherOrOthers];
    const notDataset = others.find((o) => !(o instanceof Dataset));
    if (notDataset !== undefined) {
      throw new TypeError(
        `cogroup needs a dataset, or an array of them, to group with; got ${String(notDataset)}`,
      );
    }
    // Spark's cogroup(other1, other2) would otherwise fail deep in the partitioner, naming neither argument.
    if (partitioning instanceof Dataset) {
      throw new TypeError(
        `cogroup's second argument is the partitioning (a number of partitions or a HashPartitioner), got a dataset, ${String(partitioning)}: to group with several, pass them in one array, cogroup([other1, other2]) for Spark's cogroup(other1, other2)`,
      );
    }
    const { ctx, scope } = this.driverContext();
    const partitioner = partitionerOf(this, partitioning, others);
    // A parent already placed by this partitioner is read in place (Spark's co-partitioned cogroup): this is
    // what keeps state, which is partitioned by key, from being shuffled every batch.
    const deps: Dependency[] = [this, ...others].map((p) =>
      p.isPlacedBy(partitioner)
        ? new OneToOneDependency(p)
        : new ShuffleDependency(p, ctx.newShuffleId(), partitioner, true),
    );
    return new CoGroupedDataset({
      ctx,
      scope,
      deps,
      numPartitions: partitioner.numPartitions,
      partitioner: partitioner.toSpec(),
    });
  },
);

for (const [name, fnId] of [
  ['join', 'builtin:joinInner'],
  ['leftOuterJoin', 'builtin:joinLeft'],
  ['rightOuterJoin', 'builtin:joinRight'],
  ['fullOuterJoin', 'builtin:joinFull'],
  ['subtractByKey', 'builtin:subtractByKey'],
] as const) {
  define(name, function (this: Dataset<any>, other: Dataset<any>, partitioning?: Partitioning) {
    // Spark's subtractByKey keeps this dataset's partitioning (its partitioner, or as many partitions), where the
    // joins take the cogroup's default partitioner of both sides.
    const keeps = name === 'subtractByKey' && partitioning === undefined;
    return this.cogroup([other], keeps ? ownPartitioning(this) : partitioning).flatMapValues({ fnId });
  });
}

/** This dataset's partitioner, or hash partitioning over as many partitions: Spark's default of `subtract`. */
function ownPartitioning(ds: Dataset<any>): HashPartitioner {
  return ds.partitioner ? HashPartitioner.fromSpec(ds.partitioner) : new HashPartitioner(ds.numPartitions);
}

define('collect', async function (this: Dataset<any>) {
  const parts = await this.driverContext().ctx.runJob(this, { type: 'collect' });
  return (parts as unknown[][]).flat();
});

/**
 * `collect` for a caller that writes the records as JSON (the `jsonl` output): JSON writes Infinity and NaN as
 * null in any mode, so a Lambda worker need not name them, and a batch's records are not walked for them.
 */
export async function collectAsJson<T>(ds: Dataset<T>): Promise<T[]> {
  const parts = await ds.driverContext().ctx.runJob(ds, { type: 'collect', asJson: true });
  return (parts as T[][]).flat();
}

define('count', async function (this: Dataset<any>) {
  const parts = await this.driverContext().ctx.runJob(this, { type: 'count' });
  return (parts as number[]).reduce((a, b) => a + b, 0);
});

define('take', async function (this: Dataset<any>, n: number) {
  if (!Number.isInteger(n)) {
    throw new RangeError(`take needs a whole number of records, got ${String(n)}`);
  }
  // Spark's take of a negative count takes none; slicing to it would drop records from the end instead.
  if (n <= 0) return [];
  const parts = await this.driverContext().ctx.runJob(this, { type: 'take', n });
  return (parts as unknown[][]).flat().slice(0, n);
});

define('isEmpty', async function (this: Dataset<any>) {
  return (await this.take(1)).length === 0;
});

define('persist', function (level: StorageLevel = 'memory') {
  if (!STORAGE_LEVELS.includes(level)) {
    throw new RangeError(
      `storage level must be one of ${STORAGE_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
    );
  }
  // Persisted already (by its stream, or by an earlier call): the first persistence wins, and takes no new name.
  if (this.persistSpec) return this;
  // Made in a stream's body, named by the stream and its batch (see `BodyPersistence`). Else a static dataset (made
  // while the job is built, read by every batch): named by its id, which every process that builds the job counts
  // alike, kept as long as the job runs, and never listed in the metadata checkpoint, so a restart computes it
  // again from its lineage, as Spark does (with the functions of the job as it is now).
  const body = this.scope?.body;
  return this.setPersist(
    body ? body.persist(this, level) : { key: `ds${this.id}`, level, untilMs: Number.MAX_SAFE_INTEGER },
  );
});

define('cache', function () {
  return this.persist('memory');
});

define('sortBy', function (f: FnLike, ascending = true) {
  // The keys are computed by a map, so a record whose key function throws is a dead letter, not a failed sort.
  const keyed = this.map({ fnId: `${KEY_BY}${fnIdOf(this, f)}` });
  return keyed.repartition(1).mapPartitions({ fnId: `builtin:sortedByKey:${ascending ? 'asc' : 'desc'}` });
});

define('sortByKey', function (this: Dataset<[unknown, unknown]>, ascending = true) {
  return this.sortBy({ fnId: 'builtin:pairKey' }, ascending);
});

define('keyBy', function (this: Dataset<any>, f: FnLike) {
  return this.map({ fnId: `${KEY_BY}${fnIdOf(this, f)}` });
});

define('first', async function (this: Dataset<any>) {
  const taken = await this.take(1);
  if (taken.length === 0) {
    throw new RangeError(
      'first() of an empty dataset: a batch may have no record; use take(1) to allow none',
    );
  }
  return taken[0];
});

/**
 * The `n` records with the smallest keys (`sign` 1) or the largest (`sign` -1), in that order: each partition
 * keeps its own `n` (Spark's `top` keeps a bounded queue per partition), and the driver merges the few left.
 */
async function firstByKey(
  ds: Dataset<any>,
  n: number,
  key: FnLike | undefined,
  sign: 1 | -1,
  action: string,
) {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${action} needs a whole number of records, 0 or more, got ${String(n)}`);
  }
  if (n === 0) return [];
  const keyId = key === undefined ? 'builtin:identity' : fnIdOf(ds, key);
  // The keys are computed by a map, as sortBy's are, so a record whose key function throws is a dead letter.
  const kept = ds
    .map({ fnId: `${KEY_BY}${keyId}` })
    .mapPartitions({ fnId: `${FIRST_BY_KEY}${sign === 1 ? 'asc' : 'desc'}:${n}` });
  const pairs = (await kept.collect()) as Array<[unknown, unknown]>;
  pairs.sort(([a], [b]) => sign * compareValues(a, b));
  return pairs.slice(0, n).map(([, record]) => record);
}

define('top', function (this: Dataset<any>, n: number, key?: FnLike) {
  return firstByKey(this, n, key, -1, 'top');
});

define('takeOrdered', function (this: Dataset<any>, n: number, key?: FnLike) {
  return firstByKey(this, n, key, 1, 'takeOrdered');
});

for (const [action, sign] of [
  ['max', -1],
  ['min', 1],
] as const) {
  define(action, async function (this: Dataset<any>, key?: FnLike) {
    const firsts = await firstByKey(this, 1, key, sign, action);
    if (firsts.length === 0) {
      throw new RangeError(
        `${action}() of an empty dataset: a batch may have no record (or only dead letters); check isEmpty() first`,
      );
    }
    return firsts[0];
  });
}

define('foreachPartition', async function (this: Dataset<any>, f: AnyFn) {
  if (typeof f !== 'function') throw new TypeError(`foreachPartition needs a function, got ${typeof f}`);
  // A partition pass that emits nothing, run by an action: the stage runs where the function can be found
  // (in the driver for a function made inside foreachRDD, as every function made there).
  const pass = this.mapPartitions((records: unknown[], partition: number) => {
    const done = f(records, partition);
    return done instanceof Promise ? done.then(() => []) : [];
  });
  await pass.count();
});

define('foreach', function (this: Dataset<any>, f: AnyFn) {
  if (typeof f !== 'function') throw new TypeError(`foreach needs a function, got ${typeof f}`);
  return this.foreachPartition(async (records: unknown[]) => {
    for (const record of records) {
      const done = f(record);
      if (done instanceof Promise) await done;
    }
  });
});

define('distinct', function (this: Dataset<any>, partitioning?: Partitioning) {
  return (this.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>)
    .reduceByKey({ fnId: 'builtin:keepFirst' }, partitioning ?? this.numPartitions)
    .map({ fnId: 'builtin:pairKey' });
});

define('keys', function (this: Dataset<any>) {
  return this.map({ fnId: 'builtin:pairKey' });
});

define('values', function (this: Dataset<any>) {
  return this.map({ fnId: 'builtin:pairValue' });
});

/**
 * A function of the user's, or the built-in one an id names, called as a plain function: foldByKey's and
 * aggregateByKey's combiners wrap the user's function in one that first copies the zero.
 */
function fnOf(ds: Dataset<any>, f: FnLike): AnyFn {
  if (typeof f === 'function') return f;
  return ds.driverContext().scope.table.get(fnIdOf(ds, f));
}

define(
  'aggregateByKey',
  function (
    this: Dataset<[unknown, unknown]>,
    zero: unknown,
    seqOp: FnLike,
    combOp: FnLike,
    partitioning?: Partitioning,
  ) {
    const copyOfZero = zeroCopier(zero, 'aggregateByKey');
    const seq = fnOf(this, seqOp);
    // Spark's aggregateByKey: combineByKey(v => seqOp(zero, v), seqOp, combOp), the zero copied per key. The
    // wrapper is registered in the caller's scope like any closure of a transform body, so a worker that runs
    // the body again registers it under the same id.
    return this.combineByKey((v: unknown) => seq(copyOfZero(), v), seqOp, combOp, partitioning, true);
  },
);

define(
  'foldByKey',
  function (this: Dataset<[unknown, unknown]>, zero: unknown, f: FnLike, partitioning?: Partitioning) {
    const copyOfZero = zeroCopier(zero, 'foldByKey');
    const fold = fnOf(this, f);
    return this.combineByKey((v: unknown) => fold(copyOfZero(), v), f, f, partitioning, true);
  },
);

define('subtract', function (this: Dataset<any>, other: Dataset<any>, partitioning?: Partitioning) {
  const pairs = this.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>;
  return pairs
    .subtractByKey(
      other.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>,
      // The records are the keys now, so this dataset's partitioner cannot place them: only its count is kept.
      partitioning ?? ownPartitioning(this).numPartitions,
    )
    .keys();
});

define('intersection', function (this: Dataset<any>, other: Dataset<any>, partitioning?: Partitioning) {
  const pairs = this.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>;
  return pairs
    .cogroup([other.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>], partitioning)
    .filter({ fnId: 'builtin:onBothSides' })
    .keys();
});

define('sample', function (this: Dataset<any>, withReplacement: boolean, fraction: number, seed?: number) {
  if (typeof withReplacement !== 'boolean') {
    throw new TypeError(`sample's withReplacement must be true or false, got ${String(withReplacement)}`);
  }
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0) {
    throw new RangeError(`sample's fraction must be a number of 0 or more, got ${String(fraction)}`);
  }
  if (!withReplacement && fraction > 1) {
    throw new RangeError(
      `sample's fraction without replacement is a probability, from 0 to 1, got ${fraction}; sample with replacement for more copies`,
    );
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new RangeError(`sample's seed must be a whole number, got ${String(seed)}`);
  }
  // The seed is drawn here, once, and travels in the function's id: every attempt of every task, and a worker
  // that runs a transform body again, use the driver's, where a seed drawn per process would not agree.
  const drawn = seed ?? Math.floor(Math.random() * 2 ** 32);
  return this.mapPartitions({ fnId: sampleFnId(withReplacement, fraction, drawn) }, true);
});

define('zipWithIndex', async function (this: Dataset<any>) {
  // Spark's ZippedWithIndexRDD: the partitions' sizes from a count job (none for one partition), then each
  // partition numbered from the sum of the sizes before it. The offsets travel in the function's id.
  const counts =
    this.numPartitions <= 1
      ? [0]
      : ((await this.driverContext().ctx.runJob(this, { type: 'count' })) as number[]);
  const offsets: number[] = [];
  let next = 0;
  for (const count of counts) {
    offsets.push(next);
    next += count;
  }
  return this.mapPartitions({ fnId: `${ZIP_WITH_INDEX}${offsets.join(',')}` });
});

/**
 * Folds each partition's records into one value, in the partition's task, and gives the driver the partitions'
 * values (Spark's `sc.runJob(this, iter => iter.fold(zero)(f))`). `start` makes a partition's first value, from
 * its first record (`reduce`), or from nothing (a copy of the zero); a record `start` or `step` throws on is a
 * dead letter and the fold goes on from the value before it. A partition that kept no value gives none, so
 * `reduce` of an empty dataset is told apart from a reduction to null.
 */
async function foldPartitions(
  ds: Dataset<any>,
  start: ((first: unknown) => unknown) | { readonly zero: () => unknown },
  step: AnyFn,
): Promise<unknown[]> {
  const values = ds.mapPartitions((records: unknown[], _partition: number, fail) => {
    let has = typeof start !== 'function';
    let acc = typeof start === 'function' ? undefined : start.zero();
    for (const record of records) {
      try {
        acc = has || typeof start !== 'function' ? step(acc, record) : start(record);
        has = true;
      } catch (error) {
        fail(record, error);
      }
    }
    return has ? [acc] : [];
  });
  return values.collect();
}

define('reduce', async function (this: Dataset<any>, f: AnyFn) {
  if (typeof f !== 'function') throw new TypeError(`reduce needs a function, got ${typeof f}`);
  // A checked reducer refuses a first value it would not take (see `CheckedReducer`), as reduceByKey does.
  const values = await foldPartitions(this, firstValueOf(f) ?? ((first: unknown) => first), f);
  if (values.length === 0) {
    throw new RangeError(
      'reduce() of an empty dataset: a batch may have no record (or only dead letters); use fold(zero, f) to allow none',
    );
  }
  return values.reduce((a, b) => f(a, b));
});

define('fold', async function (this: Dataset<any>, zero: unknown, f: AnyFn) {
  if (typeof f !== 'function') throw new TypeError(`fold needs a function, got ${typeof f}`);
  const copyOfZero = zeroCopier(zero, 'fold');
  const values = await foldPartitions(this, { zero: copyOfZero }, f);
  return values.reduce((a, b) => f(a, b), copyOfZero());
});

define('aggregate', async function (this: Dataset<any>, zero: unknown, seqOp: AnyFn, combOp: AnyFn) {
  if (typeof seqOp !== 'function' || typeof combOp !== 'function') {
    throw new TypeError(`aggregate needs two functions, got ${typeof seqOp} and ${typeof combOp}`);
  }
  const copyOfZero = zeroCopier(zero, 'aggregate');
  const values = await foldPartitions(this, { zero: copyOfZero }, seqOp);
  return values.reduce((a, b) => combOp(a, b), copyOfZero());
});

define('countByKey', async function (this: Dataset<[unknown, unknown]>, partitioning?: Partitioning) {
  const counts = this.mapValues({ fnId: 'builtin:one' }).reduceByKey({ fnId: 'builtin:sum' }, partitioning);
  return new ValueMap((await counts.collect()) as Array<[unknown, number]>);
});

define('countByValue', function (this: Dataset<any>, partitioning?: Partitioning) {
  return (this.map({ fnId: 'builtin:pairWithNull' }) as Dataset<[unknown, null]>).countByKey(partitioning);
});

define('collectAsMap', async function (this: Dataset<any>) {
  const pairs = (await this.map({ fnId: 'builtin:pair' }).collect()) as Array<[unknown, unknown]>;
  return new ValueMap(pairs);
});

define('lookup', async function (this: Dataset<[unknown, unknown]>, key: unknown) {
  const wanted = new KeyedMap<true>();
  wanted.set(key, true);
  return onlyPartitionOf(this, key)
    .filter((record: unknown) => wanted.has(pairOf(record)[0]))
    .values()
    .collect();
});

/**
 * The one partition that can hold `key` when the dataset is placed by a partitioner, as a dataset of one partition
 * (Spark's PartitionPruningRDD, which its `lookup` reads): the other partitions are never computed. Without a
 * partitioner, the dataset itself.
 */
function onlyPartitionOf(ds: Dataset<[unknown, unknown]>, key: unknown): Dataset<[unknown, unknown]> {
  if (!ds.partitioner) return ds;
  const { ctx, scope } = ds.driverContext();
  const partition = HashPartitioner.fromSpec(ds.partitioner).partition(key);
  return new UnionDataset({ ctx, scope, deps: [new RangeDependency(ds, partition, 0, 1)], numPartitions: 1 });
}
