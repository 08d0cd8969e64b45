import type { ValueShape } from '../executor/ValueShape';
import type { OutputJob } from '../scheduler/BatchRun';
import type { BlockStore } from '../storage/BlockStore';
import type { Dependency, DependencySpec } from './Dependency';
import type { FnScope } from './FnScope';
import { ambientOpOrigin } from './OpOrigin';
import type { PartitionerSpec } from './Partitioner';
import type { PersistenceTracker } from './PersistenceTracker';
import { inMemory, type PersistSpec } from './StorageLevel';
import type { TaskContext } from './TaskContext';

/** Takes one chunk of a partition's records (see `Dataset.forEachChunk`). */
// biome-ignore lint/suspicious/noConfusingVoidType: a consumer that returns nothing (void) is the common, synchronous case
export type ConsumeChunk = (records: readonly unknown[]) => void | Promise<unknown>;

/** A dataset as it travels in a plan: plain JSON, with functions named by id. */
export interface DatasetSpec {
  readonly id: number;
  readonly type: string;
  readonly numPartitions: number;
  readonly deps: readonly DependencySpec[];
  /** Set when a function of this dataset can only be resolved in the driver (created inside foreachRDD). */
  readonly driverOnly?: true;
  /** Set when records are placed by key with this partitioner (co-partitioned joins need no shuffle). */
  readonly partitioner?: PartitionerSpec;
  /** Set when the dataset's partitions are kept once computed. */
  readonly persist?: PersistSpec;
  /** Where the op that made it was written (see `OpOrigin`), for the error of a task that fails on it. */
  readonly origin?: string;
  /** Its name in every process that builds the job, when a stream generated it (see `Dataset.generatedAs`). */
  readonly generatedAs?: GeneratedAs;
  readonly args: Readonly<Record<string, unknown>>;
}

/**
 * The name of a dataset that is the same in every process that builds the job: the stream that generated it, the
 * batch time it was generated for, and its path from that stream's dataset of that batch (`''` for the stream's
 * dataset itself, `'0.1'` for the second parent of its first parent). Dataset ids are counted per process; this
 * is what a restarted driver can match (dead letters are written once per named dataset partition).
 */
export interface GeneratedAs {
  /** The stream's id in the graph (`n3`): the same in every process that builds the job. */
  readonly stream: string;
  readonly batchTime: number;
  readonly path: string;
}

/** What the driver offers datasets: ids, defaults, and a way to run actions. */
export interface DatasetContext {
  /** A fresh dataset id, unique within this driver. */
  newDatasetId(): number;
  /** A fresh shuffle id, unique within this driver. */
  newShuffleId(): number;
  /** The number of partitions shuffles use when none is given. */
  readonly defaultPartitions: number;
  /**
   * Runs `action` over every partition of `dataset` and returns one result per partition, in `job` (default: the
   * job its scope names, or the one running).
   */
  runJob(dataset: Dataset, action: ActionSpec, job?: OutputJob): Promise<unknown[]>;
  /** The store file outputs write to: the output folder locally, `outputs/` in the bucket on AWS. */
  outputStore(): BlockStore;
  /**
   * True when `action` may not run now (a transform's function is running in the driver): the caller returns a
   * promise that never settles, and the function's batch fails naming the action (see `StreamingContext.inBody`).
   */
  refusesAction?(action: string): boolean;
  /** A small dataset whose records travel inline in the plan. */
  parallelizeDataset<T>(data: readonly T[], numPartitions: number, scope: FnScope): Dataset<T>;
  /** Which persisted partitions exist. */
  readonly persistence: PersistenceTracker;
  /**
   * Memory levels also write the block store, as the runtime asks (`StreamingEnv.memoryBackedByStore`): a
   * partition one process holds in memory can then be read by any other.
   */
  readonly memoryBackedByStore: boolean;
  /**
   * True while the job is being built, before its graph starts: a dataset made then from nothing else (a
   * `textFile`, `parallelize`) or from such datasets only is static, computed again by every batch that reads
   * it. Absent: false.
   */
  readonly building?: boolean;
  /**
   * The scope of the stream body running now (a transform's function, a foreachRDD's), if any: an op it applies to
   * a dataset of the graph's scope (a static lookup table, `ssc.parallelize`) registers its functions there, so that
   * they are named per batch, found where the body's stages run, and dropped with the batch. Absent: none.
   */
  bodyScope?(): FnScope | undefined;
}

/**
 * The batch time in the name of a static dataset (see `Dataset.isStatic`): it belongs to no batch, and the dead
 * letters of its partitions, written by the first batch that computes them, stay remembered as long as the job
 * runs (`DeadLetterLedger.forgetThrough` never reaches this time).
 */
export const STATIC_BATCH_TIME = Number.MAX_SAFE_INTEGER;

/** What a result task does with its partition. */
export type ActionSpec =
  | {
      readonly type: 'collect';
      /**
       * Set when the driver writes the records as JSON (a `jsonl` output), where a value JSON cannot write is null
       * anyway: a Lambda worker then does not look for such values to name them (see `valuesJsonLosesIn`).
       */
      readonly asJson?: true;
    }
  | { readonly type: 'take'; readonly n: number }
  | { readonly type: 'count' }
  | {
      readonly type: 'saveText';
      readonly path: string;
      /** The stream's `valueShape`, for its lines to read as Spark writes its groups and Options; default `plain`. */
      readonly valueShape?: ValueShape;
    };

/** Where a dataset object came from: built by the driver with live parents, or rebuilt by a task from JSON. */
export type DatasetOrigin =
  | {
      readonly ctx: DatasetContext;
      readonly scope: FnScope;
      readonly deps: readonly Dependency[];
      readonly numPartitions: number;
      /** How the records are placed by key, when they are. */
      readonly partitioner?: PartitionerSpec | undefined;
    }
  | { readonly spec: DatasetSpec };

/**
 * Spark's RDD: a partitioned dataset that remembers its lineage and is computed lazily, one partition per
 * task. The base holds the machinery (ids, lineage, the plan form, function scopes); each subclass states its
 * arguments and how to compute one partition. Transformations and actions are added in `DatasetOps`.
 */
export abstract class Dataset<T = unknown> {
  /** The dataset's kind in a plan, such as `mapPartitions` or `shuffled`. */
  abstract readonly type: string;
  /** Unique within the driver that built it. */
  readonly id: number;
  /** How many partitions (and so tasks) the dataset has. */
  readonly numPartitions: number;
  /** Live parents (driver side only; empty when rebuilt from a plan or once checkpointed). */
  get dependencies(): readonly Dependency[] {
    return this.lineage.deps;
  }
  // Held in an object shared with scope views, so a checkpoint that drops the parents drops them for all.
  private readonly lineage: { deps: readonly Dependency[] };
  /** Parents as the plan names them. */
  readonly depSpecs: readonly DependencySpec[];
  /** The prefix of the driver-only scope (a foreachRDD's body) this dataset was made in, if it was. */
  private readonly driverScope: string | undefined;
  private driverOnlyMark: boolean | undefined;
  /** The driver context (undefined in a task). */
  readonly ctx: DatasetContext | undefined;
  /** Where functions passed to this dataset's transformations are registered (undefined in a task). */
  readonly scope: FnScope | undefined;
  /** How records are placed by key, when they are. */
  readonly partitioner: PartitionerSpec | undefined;
  // A holder object rather than a field, so that scope views (which share it through the prototype) and the
  // original see the same persistence.
  private readonly persistHolder: { spec?: PersistSpec | undefined };
  // Shared with scope views in the same way, so a stream that tags a view tags the dataset.
  private readonly originHolder: { origin?: string | undefined };
  // Shared with scope views too.
  private readonly generatedHolder: { as?: GeneratedAs | undefined };
  /**
   * Made while the job was built, from static datasets only (see `DatasetContext.building`): a dataset every
   * batch that reads it computes again, rather than one generated for a batch. False in a task.
   */
  readonly isStatic: boolean;

  protected constructor(origin: DatasetOrigin) {
    if ('spec' in origin) {
      this.id = origin.spec.id;
      this.numPartitions = origin.spec.numPartitions;
      this.lineage = { deps: [] };
      this.depSpecs = origin.spec.deps;
      this.driverScope = undefined;
      this.driverOnlyMark = origin.spec.driverOnly === true;
      this.ctx = undefined;
      this.scope = undefined;
      this.partitioner = origin.spec.partitioner;
      this.persistHolder = { spec: origin.spec.persist };
      this.originHolder = { origin: origin.spec.origin };
      this.generatedHolder = { as: origin.spec.generatedAs };
      this.isStatic = false;
    } else {
      this.id = origin.ctx.newDatasetId();
      this.numPartitions = origin.numPartitions;
      this.lineage = { deps: origin.deps };
      this.depSpecs = origin.deps.map((d) => d.toSpec());
      this.driverScope = origin.scope.driverOnly ? origin.scope.prefix : undefined;
      this.ctx = origin.ctx;
      this.scope = origin.scope;
      this.partitioner = origin.partitioner;
      this.persistHolder = {};
      this.originHolder = { origin: ambientOpOrigin() };
      this.generatedHolder = {};
      this.isStatic = origin.ctx.building === true && origin.deps.every((dep) => dep.parent.isStatic);
    }
  }

  /** Computes one partition inside a task. Parents are reached through `tc`, by the ids in `depSpecs`. */
  abstract compute(partition: number, tc: TaskContext): Promise<T[]> | T[];

  /**
   * The stage-input record each record of partition `partition`, computed in this task, came from (same index),
   * for a dead letter of an op after this dataset; undefined when each record is its own. Per-record maps keep
   * them, and datasets made of their parents' records (unions, coalesces) pass their parents' on.
   */
  originsOf(partition: number, _tc: TaskContext): readonly unknown[] | undefined {
    return this.concatenatedOrigins?.get(partition);
  }

  /** Per partition computed by `concatenate`, its parents' origins, when a parent kept any. */
  private concatenatedOrigins: Map<number, unknown[]> | undefined;

  /**
   * The records of parent partitions `reads`, concatenated in order: a partition of a coalesce or a
   * partitioner-aware union. Their origins are kept for `originsOf`, so a record an op after it refuses is still
   * dead-lettered as the line it came from.
   */
  protected async concatenate(
    partition: number,
    reads: ReadonlyArray<{ readonly parent: number; readonly partition: number }>,
    tc: TaskContext,
  ): Promise<T[]> {
    const parts = await Promise.all(reads.map((read) => tc.partitionOf(read.parent, read.partition)));
    const origins = reads.map((read) => tc.originsOf(read.parent, read.partition));
    if (origins.some((o) => o !== undefined)) {
      this.concatenatedOrigins ??= new Map();
      this.concatenatedOrigins.set(
        partition,
        parts.flatMap((records, i) => origins[i] ?? records),
      );
    }
    return (parts.length === 1 ? parts[0] : parts.flat()) as T[];
  }

  /**
   * Set by an input that can hand a partition over in chunks as it reads or makes it (a block decoded a slice at
   * a time), so that a pass over it never holds the whole partition: the records of a chunk die young, which the
   * collector's young generation clears almost for free, where a whole partition outlives several collections
   * and is copied by each. `consume` may return a promise, which is awaited before the next chunk.
   */
  forEachChunk?(partition: number, tc: TaskContext, consume: ConsumeChunk): Promise<void>;

  /** How the computed partitions are kept, when the dataset is persisted. */
  get persistSpec(): PersistSpec | undefined {
    return this.persistHolder.spec;
  }

  /**
   * Keeps the partitions once computed (Spark's persist). Stream datasets get a key that is stable across
   * restarts; the first call wins, so a dataset shared by two streams is persisted once.
   */
  setPersist(spec: PersistSpec): this {
    // One place for every persisted dataset, a stream's or one persisted inside transform or foreachRDD alike.
    const backed = inMemory(spec.level) && this.ctx?.memoryBackedByStore === true;
    this.persistHolder.spec ??= backed ? { ...spec, level: 'memoryAndBlockStore' } : spec;
    return this;
  }

  /** Where the op that made this dataset was written (see `OpOrigin`); undefined until a stream tags it. */
  get origin(): string | undefined {
    return this.originHolder.origin;
  }

  /**
   * Gives this dataset and its untagged ancestors an origin: the stream that computed them says which op made
   * them, whether its own operator or the user's transform function built them. The walk stops at datasets
   * already tagged (the parent streams' datasets).
   */
  tagOrigin(origin: string): void {
    const stack: Dataset[] = [this];
    while (stack.length > 0) {
      const ds = stack.pop()!;
      if (ds.originHolder.origin !== undefined) continue;
      ds.originHolder.origin = origin;
      for (const dep of ds.dependencies) stack.push(dep.parent);
    }
  }

  /** How many partitions the dataset has (Spark's `getNumPartitions`; the same as `numPartitions`). */
  getNumPartitions(): number {
    return this.numPartitions;
  }

  /**
   * True when some function of this dataset can only be resolved in the driver: one made in the foreachRDD body
   * the dataset was made in (a worker cannot run that body again to learn it). The planner pins every stage
   * holding such a dataset to the driver. A dataset the body made with built-in or graph functions alone
   * (`rdd.values()`, `distinct`, `stats`, a `reduceByKey` of a graph function) runs on the workers as any other.
   */
  get driverOnly(): boolean {
    this.driverOnlyMark ??=
      this.driverScope !== undefined && namesFunctionOf(this.driverScope, this.args(), this.depSpecs);
    return this.driverOnlyMark;
  }

  /** The dataset's name across processes (see `GeneratedAs`); undefined when no stream generated it. */
  get generatedAs(): GeneratedAs | undefined {
    return this.generatedHolder.as;
  }

  /**
   * Whether every record is already where `partitioner` would put it: placed by a partitioner of as many partitions
   * (hash partitioning is the only kind), so a by-key op with it reads this dataset in place.
   */
  isPlacedBy(partitioner: { readonly numPartitions: number }): boolean {
    return this.partitioner?.numPartitions === partitioner.numPartitions;
  }

  /**
   * The stream that generated this dataset as its dataset of a batch (`generatedAs` with an empty path), not as an
   * ancestor of it; undefined for any other dataset.
   */
  get generatingStream(): string | undefined {
    const as = this.generatedHolder.as;
    return as !== undefined && as.path === '' ? as.stream : undefined;
  }

  /**
   * Names this dataset and its unnamed ancestors as generated by `stream` for `batchTime`, each by its path of
   * parent positions from this one. The walk stops at named datasets (the parent streams' datasets, named when
   * they were generated), so it names exactly what the stream built for the batch. A path, not a count in walk
   * order: a dataset the stream reuses across batches (named once) then shifts no other dataset's name.
   */
  nameGeneration(stream: string, batchTime: number): void {
    const stack: Array<{ ds: Dataset; path: string }> = [{ ds: this, path: '' }];
    while (stack.length > 0) {
      const { ds, path } = stack.pop()!;
      if (ds.generatedHolder.as !== undefined) continue;
      // A static dataset is read by many batches (and streams): named by its id, counted in the same order by
      // every process that builds the job, and by no batch. Named after the first batch that read it, its dead
      // letters were forgotten with that batch's datasets, and every later batch wrote them again.
      ds.generatedHolder.as = ds.isStatic
        ? { stream: 'static', batchTime: STATIC_BATCH_TIME, path: String(ds.id) }
        : { stream, batchTime, path };
      const deps = ds.dependencies;
      // Pushed last first, so the first parent's line is named first (a diamond takes its first path).
      for (let i = deps.length - 1; i >= 0; i--)
        stack.push({ ds: deps[i]!.parent, path: path === '' ? String(i) : `${path}.${i}` });
    }
  }

  /**
   * Drops the live parents once every partition is in the block store (Spark's markCheckpointed): plans read
   * the stored partitions anyway, and without this a long-running stateful stream would keep every batch it
   * ever computed reachable in the driver's memory.
   */
  markCheckpointed(): void {
    this.lineage.deps = [];
  }

  /** The subclass's own arguments for the plan (function ids, keys, inline data). */
  protected abstract args(): Record<string, unknown>;

  /** The plan form of this dataset alone. */
  toSpec(): DatasetSpec {
    const spec: DatasetSpec = {
      id: this.id,
      type: this.type,
      numPartitions: this.numPartitions,
      deps: this.depSpecs,
      args: this.args(),
      ...(this.partitioner ? { partitioner: this.partitioner } : {}),
      ...(this.persistSpec ? { persist: this.persistSpec } : {}),
      ...(this.origin !== undefined ? { origin: this.origin } : {}),
      ...(this.generatedAs !== undefined ? { generatedAs: this.generatedAs } : {}),
    };
    return this.driverOnly ? { ...spec, driverOnly: true } : spec;
  }

  /**
   * The same dataset, seen from another function scope. Transform and foreachRDD bodies get such views so the
   * functions they create are named in their own scope; lineage, id and plan form stay those of the original.
   */
  inScope(scope: FnScope): this {
    const view = Object.create(this) as this;
    Object.defineProperty(view, 'scope', { value: scope });
    return view;
  }

  /** The driver context and scope, or a clear error when called inside a task (engine use). */
  driverContext(): { ctx: DatasetContext; scope: FnScope } {
    if (!this.ctx || !this.scope) {
      throw new Error(
        `dataset ${this.id} was rebuilt inside a task; transformations and actions run in the driver`,
      );
    }
    // A static dataset (built with the job) that a stream's body transforms at batch time: the functions it makes
    // belong to the body. Registered in the graph's scope, a closure made in a foreachRDD got an id no worker
    // rebuilding the job knows (its stage failed there), and one made in a transform an id that depended on how many
    // batches the process had run. Only a static one: the streams' own datasets are of the graph's scope too, and
    // the scheduler builds later batches' while a foreachRDD runs, whose job any code finds then (`runningJob`).
    const body = this.scope.isGraph && this.isStatic ? this.ctx.bodyScope?.() : undefined;
    return { ctx: this.ctx, scope: body ?? this.scope };
  }

  /** A short description for logs: `mapPartitions#12 (4 partitions)`. */
  toString(): string {
    return `${this.type}#${this.id} (${this.numPartitions} partitions)`;
  }
}

/** Partition i of p holds records [⌊i·n/p⌋, ⌊(i+1)·n/p⌋) of n, the split Spark's parallelize makes. */
export function sliceBounds(n: number, p: number, i: number): [number, number] {
  return [Math.floor((i * n) / p), Math.floor(((i + 1) * n) / p)];
}

/**
 * Whether a dataset's arguments or dependencies (a shuffle's aggregator) name a function of the scope `prefix`:
 * `<prefix>/<n>`, alone or inside a built-in's id (`builtin:keyBy:<prefix>/<n>`). A record of inline data that
 * happens to read so only pins its stage to the driver, where it would have run anyway.
 */
function namesFunctionOf(prefix: string, args: unknown, deps: readonly DependencySpec[]): boolean {
  let text: string;
  try {
    text = JSON.stringify([args, deps]);
  } catch {
    // Inline data JSON cannot write (a BigInt): the driver, which needs no plan text to run it, keeps it.
    return true;
  }
  return text.includes(`"${prefix}/`) || text.includes(`:${prefix}/`);
}
