import { type Dataset, sliceBounds } from './Dataset';
import type { HashPartitioner, PartitionerSpec } from './Partitioner';

/** How a shuffle combines values per key (Spark's Aggregator); each member names a function by id. */
export interface AggregatorSpec {
  readonly createCombiner: string;
  readonly mergeValue: string;
  readonly mergeCombiners: string;
}

/** A dependency as it travels in a plan: the parent is named by its dataset id. */
export type DependencySpec =
  | { readonly type: 'oneToOne'; readonly parent: number }
  | {
      readonly type: 'range';
      readonly parent: number;
      readonly inStart: number;
      readonly outStart: number;
      readonly length: number;
    }
  | {
      readonly type: 'coalesce';
      readonly parent: number;
      readonly parentPartitions: number;
      readonly numPartitions: number;
    }
  | {
      readonly type: 'cartesian';
      readonly parent: number;
      readonly side: 'first' | 'second';
      readonly secondPartitions: number;
    }
  | { readonly type: 'shuffle'; readonly parent: number; readonly shuffleId: number };

/** A dependency that reads its parent's partitions in place, in the task of the child's partition. */
export type NarrowDependencySpec = Exclude<DependencySpec, { readonly type: 'shuffle' }>;

/**
 * The parent partitions that child partition `partition` reads through `dep`, in the order it reads them (Spark's
 * `NarrowDependency.getParents`): one for most, a run of them for a coalesce, none for a union's other parents.
 * The one place that answers it, for the planner, the scheduler and the task alike.
 */
export function parentPartitions(dep: NarrowDependencySpec, partition: number): number[] {
  switch (dep.type) {
    case 'oneToOne':
      return [partition];
    case 'range':
      return partition >= dep.outStart && partition < dep.outStart + dep.length
        ? [partition - dep.outStart + dep.inStart]
        : [];
    case 'coalesce': {
      const [from, to] = sliceBounds(dep.parentPartitions, dep.numPartitions, partition);
      return Array.from({ length: to - from }, (_, i) => from + i);
    }
    case 'cartesian':
      return [
        dep.side === 'first'
          ? Math.floor(partition / dep.secondPartitions)
          : partition % dep.secondPartitions,
      ];
  }
}

/** Child partition i reads parent partition i. */
export class OneToOneDependency {
  readonly kind = 'narrow';
  constructor(readonly parent: Dataset) {}

  /** The plan form. */
  toSpec(): DependencySpec {
    return { type: 'oneToOne', parent: this.parent.id };
  }
}

/** Child partitions [outStart, outStart + length) read parent partitions [inStart, …) (union). */
export class RangeDependency {
  readonly kind = 'narrow';
  constructor(
    readonly parent: Dataset,
    readonly inStart: number,
    readonly outStart: number,
    readonly length: number,
  ) {}

  /** The plan form. */
  toSpec(): DependencySpec {
    return {
      type: 'range',
      parent: this.parent.id,
      inStart: this.inStart,
      outStart: this.outStart,
      length: this.length,
    };
  }
}

/**
 * Child partition i of k reads the run of parent partitions [⌊i·n/k⌋, ⌊(i+1)·n/k⌋) of n, in order: Spark's
 * CoalescedRDD as its default coalescer groups a parent without preferred locations (Sluice's tasks have none).
 */
export class CoalesceDependency {
  readonly kind = 'narrow';
  constructor(
    readonly parent: Dataset,
    readonly numPartitions: number,
  ) {}

  /** The plan form. */
  toSpec(): DependencySpec {
    return {
      type: 'coalesce',
      parent: this.parent.id,
      parentPartitions: this.parent.numPartitions,
      numPartitions: this.numPartitions,
    };
  }
}

/**
 * One side of a cartesian product of m × n partitions (Spark's CartesianRDD): child partition i·n + j reads
 * partition i of the first parent and partition j of the second.
 */
export class CartesianDependency {
  readonly kind = 'narrow';
  constructor(
    readonly parent: Dataset,
    readonly side: 'first' | 'second',
    readonly secondPartitions: number,
  ) {}

  /** The plan form. */
  toSpec(): DependencySpec {
    return {
      type: 'cartesian',
      parent: this.parent.id,
      side: this.side,
      secondPartitions: this.secondPartitions,
    };
  }
}

/** Every child partition may read every parent partition: a stage boundary. */
export class ShuffleDependency {
  readonly kind = 'shuffle';
  /**
   * @param keyed true when records are `[key, value]` pairs placed by the partitioner; false for repartition,
   *   which spreads whole records round-robin
   * @param aggregator how values combine per key, when they do
   * @param mapSideCombine combine on the map side before writing (reduceByKey yes, groupByKey no, as in Spark)
   */
  constructor(
    readonly parent: Dataset,
    readonly shuffleId: number,
    readonly partitioner: HashPartitioner,
    readonly keyed: boolean,
    readonly aggregator?: AggregatorSpec,
    readonly mapSideCombine = false,
  ) {}

  /** The plan form. */
  toSpec(): DependencySpec {
    return { type: 'shuffle', parent: this.parent.id, shuffleId: this.shuffleId };
  }

  /** What the map side of this shuffle needs to know, carried by the parent stage. */
  writeSpec(): ShuffleWriteSpec {
    return {
      shuffleId: this.shuffleId,
      partitioner: this.partitioner.toSpec(),
      keyed: this.keyed,
      aggregator: this.aggregator,
      mapSideCombine: this.mapSideCombine,
    };
  }
}

/** The map side of a shuffle, as a plan carries it. */
export interface ShuffleWriteSpec {
  readonly shuffleId: number;
  readonly partitioner: PartitionerSpec;
  readonly keyed: boolean;
  readonly aggregator?: AggregatorSpec;
  readonly mapSideCombine: boolean;
  /** The op that reads the shuffle (its dataset's origin), named by the map side's dead letters. */
  readonly origin?: string;
  /** Set when the job sets `shuffle.inlineMaxBytes`: it overrides the executor's inline limit. */
  readonly inlineMaxBytes?: number;
  /**
   * The driver that planned the shuffle, in its blobs' keys: shuffle ids are counted per driver, and a stale
   * coordinator running a batch beside its successor must not write where the successor reads (see `shuffleKey`).
   */
  readonly keySpace?: string;
}

/** Any dependency. */
export type Dependency =
  | OneToOneDependency
  | RangeDependency
  | CoalesceDependency
  | CartesianDependency
  | ShuffleDependency;
