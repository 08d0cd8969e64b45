import { randomBytes } from 'node:crypto';
import type { ActionSpec, Dataset, DatasetContext } from './dataset/Dataset';
import type { DeadLetter } from './dataset/TaskContext';
import './dataset/DatasetOps';
import './dataset/NumericOps';
import './dataset/TextFileOps';
import { FnScope, FunctionTable, GRAPH_SCOPE } from './dataset/FnScope';
import { ParallelDataset } from './dataset/ParallelDataset';
import { PersistenceTracker } from './dataset/PersistenceTracker';
import { TextFileDataset } from './dataset/TextFileDataset';
import { DEFAULT_BLOCK_INTERVAL_MS } from './dstream/BlockGenerator';
import type { DStream } from './dstream/DStream';
import './dstream/DStreamOps';
import './dstream/StateOps';
import './dstream/WindowOps';
import { DStreamGraph } from './dstream/DStreamGraph';
import type { OutputEvent } from './dstream/DStreamOps';
import { InputDStream, type InputStreamOptions } from './dstream/InputDStream';
import { TransformedDStream } from './dstream/TransformedDStream';
import { UnionDStream } from './dstream/UnionDStream';
import { CacheMissError, errorText, StreamGraphError } from './errors';
import type { Logger } from './log/Logger';
import { StagePlanner } from './plan/StagePlanner';
import { BatchRun, type OutputJob, runningJob } from './scheduler/BatchRun';
import { DAGScheduler } from './scheduler/DAGScheduler';
import { DeadLetterPolicy, type DeadLetterPolicyOptions } from './scheduler/DeadLetterPolicy';
import { LosingAttempts } from './scheduler/LosingAttempts';
import { type BackpressureOptions, RateController } from './scheduler/RateController';
import { type SpeculationOptions, SpeculationPolicy } from './scheduler/SpeculationPolicy';
import type { StreamingListener } from './scheduler/StreamingListener';
import type { TaskRunner } from './scheduler/TaskRunner';
import type { ShuffleOptions } from './shuffle/ShuffleOptions';
import { driverShufflePrefix } from './shuffle/ShuffleWriter';
import { GeneratorSource, type GeneratorSourceOptions } from './source/GeneratorSource';
import { QueueSource } from './source/QueueSource';
import { SocketSource, type SocketSourceOptions } from './source/SocketSource';
import type { Source } from './source/Source';
import { TextFileSource } from './source/TextFileSource';
import type { BlockStore } from './storage/BlockStore';

/** Settings of a streaming context. */
export interface StreamingContextOptions {
  /** The batch interval in milliseconds (Spark's batchDuration). */
  readonly batchIntervalMs: number;
  /**
   * Partitions of input blocks and of a DStream operation's shuffle when it names none (Spark's
   * `spark.default.parallelism`); a Dataset's by-key operation naming none reuses a parent's partitioner first, as
   * Spark's RDD operations do. Default 2.
   */
  readonly defaultPartitions?: number;
  /** Output jobs run at once, like spark.streaming.concurrentJobs. Default 1. */
  readonly concurrentJobs?: number;
  /** Attempts per task before its batch fails. Default 4. */
  readonly maxTaskAttempts?: number;
  /**
   * How often stateful streams checkpoint, in ms; rounded up to a multiple of each stream's slide. Default:
   * the smallest multiple of the slide that is at least 10 s, as in Spark.
   */
  readonly checkpointIntervalMs?: number;
  /**
   * How often a receiving source's records (a socket's lines) are cut into a block and stored while a batch
   * interval runs, in ms (Spark's `spark.streaming.blockInterval`). Default 200.
   */
  readonly blockIntervalMs?: number;
  /**
   * Speculative copies of straggling tasks (Spark's spark.speculation). Default: `enabled` as the runtime
   * chooses (on with Lambda workers, off locally), quantile 0.75, multiplier 1.4, minTaskRuntimeMs 100.
   */
  readonly speculation?: SpeculationOptions;
  /**
   * How shuffles are carried: when a large shuffle gets a combining (merge) step, and the inline limit.
   * Default: combine from 256 map × reduce pairs, 64 KiB inline (see `ShuffleOptions`).
   */
  readonly shuffle?: ShuffleOptions;
  /**
   * Backpressure (Spark's `spark.streaming.backpressure.enabled`): after each batch a PID controller sets how many
   * records a second every input stream may take, from the batch's processing time and scheduling delay (see
   * `RateController`). Default: off.
   */
  readonly backpressure?: BackpressureOptions;
  /**
   * When a flood of bad records fails its batch: `maxShare` of its records dead-lettered, once there are at
   * least `minCount` letters (see `DeadLetterPolicy`). Default: a batch never fails for its dead letters.
   */
  readonly deadLetters?: DeadLetterPolicyOptions;
}

/** What a running context is connected to; the local runtime and the Lambda runtime each provide one. */
export interface StreamingEnv {
  /** Input blocks, shuffle data and cached datasets. */
  readonly store: BlockStore;
  /** Where `saveAsTextFiles` writes. */
  readonly outputs: BlockStore;
  /** Where tasks run. */
  readonly runner: TaskRunner;
  /** Where stages that only the driver can run go (functions created inside foreachRDD). */
  readonly driverRunner: TaskRunner;
  /**
   * Memory levels (`memory`, `memorySer`) also write the block store, so a partition one process holds can be
   * read by any other. The serverless runtime sets it: a Lambda task cannot be sent back to the container that
   * computed a partition, so memory alone would miss whenever the invocation lands elsewhere. Default false.
   */
  readonly memoryBackedByStore?: boolean;
  /**
   * Whether stragglers get speculative copies when the job does not say (`speculation.enabled`). The
   * serverless runtime sets it: a Lambda worker can straggle (a cold start, a slow host) and copies cost only
   * invocations. Default false.
   */
  readonly speculationByDefault?: boolean;
  /** Writes `print` output. */
  print(text: string): void;
  /**
   * Appends one batch's line to a jsonl output: a file path, or stdout when undefined. (Object stores cannot
   * append: the serverless runtime writes one object per batch under the path instead.) A runtime that appends
   * to files may hold the line until `commitOutputs` names its batch.
   */
  appendJsonl(path: string | undefined, line: string, batchTime: number): Promise<void>;
  /**
   * Writes what `appendJsonl` held for these batches, in their order: called in the checkpoint chain, right
   * before the checkpoint that records them as completed, so the file sizes it records hold exactly the
   * completed batches' lines. Default: nothing is held.
   */
  commitOutputs?(batchTimes: readonly number[]): Promise<void>;
  /** Drops what `appendJsonl` held for a batch that failed. Default: nothing is held. */
  discardOutputs?(batchTime: number): void;
  /**
   * The current sizes of the files outputs append to (jsonl outputs, dead letters), by path, for the metadata
   * checkpoint. A path is any string, `__proto__` included: keep sizes in a Map and return
   * `Object.fromEntries(map)`, which defines each path as an own property (`record[path] = size` would not).
   */
  outputPositions(paths: readonly string[]): Promise<Readonly<Record<string, number>>>;
  /**
   * After a restart: cuts those files back to their checkpointed sizes, so no batch appears twice. Read the
   * positions with `Object.entries`, never by indexing (`positions.toString` is a function, not a size).
   */
  restoreOutputPositions(positions: Readonly<Record<string, number>>): Promise<void>;
  /**
   * Writes a batch's dead letters, before the checkpoint that completes the batch. Default: only the
   * listeners get them.
   */
  writeDeadLetters?(letters: readonly DeadLetter[], batchTime: number): Promise<void>;
  /**
   * After a restart: removes the dead letters written for every batch after `lastCompletedBatch`, which run again.
   * A store of one object per batch needs it: the rerun rewrites a batch's object only when it has letters, and
   * with concurrent batches it may have fewer than the run that died (which of two batches reading one dataset
   * writes its letters depends on which computed it first), so a letter left in the dead run's object would be
   * written twice. Every batch after it, not only those the checkpoint left pending: a source that replays by
   * time writes no checkpoint as a batch is generated, nor does an idle batch (see `RedundantCheckpoints`), so a
   * batch that wrote its letters may be one the checkpoint never heard of. The restore forgets the ledger's entries of
   * those letters, so the rerun writes them all again. A file that `restoreOutputPositions` cuts back needs
   * nothing (what it keeps, the checkpoint's entries name).
   */
  discardDeadLettersAfter?(lastCompletedBatch: number): Promise<void>;
  /**
   * Where the engine logs what a user may want to know: retries and their cause, speculative copies, dead
   * letters. Default: nowhere.
   */
  readonly log?: Logger;
}

/**
 * Spark's StreamingContext: the entry point that creates input streams and static datasets, holds the stream
 * graph, and runs the jobs that output operations generate. Building one has no side effect; sources start
 * and tasks run only once a runtime starts it, so workers can rebuild the same graph to learn its functions.
 *
 * @example
 * const ssc = new StreamingContext({ batchIntervalMs: 1000 });
 * ssc.queueStream([['a #x'], ['b #y']]).flatMap((t) => t.split(' ')).countByValue().print();
 */
export class StreamingContext implements DatasetContext {
  /** The batch interval in milliseconds. */
  readonly batchIntervalMs: number;
  /** Partitions used when an operation names none. */
  readonly defaultPartitions: number;
  /** Output jobs run at once. */
  readonly concurrentJobs: number;
  /** Attempts per task. */
  readonly maxTaskAttempts: number;
  /** The job-wide checkpoint interval of stateful streams, when set. */
  readonly checkpointIntervalMs: number | undefined;
  /** How often receiving sources cut their records into blocks, in ms. */
  readonly blockIntervalMs: number;
  /** The job's speculation settings, as given. */
  readonly speculation: SpeculationOptions;
  private readonly speculationPolicy: SpeculationPolicy;
  /** The job's shuffle settings, as given. */
  readonly shuffle: ShuffleOptions;
  /** The job's backpressure settings, as given. */
  readonly backpressure: BackpressureOptions;
  /** When a batch fails for its dead letters. */
  readonly deadLetterPolicy: DeadLetterPolicy;
  /** The stream graph. */
  readonly graph = new DStreamGraph();
  /** Every function of the graph, by id. */
  readonly functions = new FunctionTable();
  /** The scope of functions registered while the graph is built. */
  readonly graphScope: FnScope;
  /** The transform function's body scope while it runs (see `inBody`). */
  private syncBody: FnScope | undefined;
  /** The first action the running transform function asked for (see `refusesAction`). */
  private refusedInBody: string | undefined;
  /** Each running foreachRDD job's body scope (see `enterOutputBody`); gone with the job. */
  private readonly outputBodies = new WeakMap<OutputJob, FnScope>();
  /** Which persisted partitions exist, for the planner. */
  readonly persistence = new PersistenceTracker();
  /** The losing attempts of copied tasks that still run (see `deleteTaskWrites`). */
  readonly losers = new LosingAttempts();
  /** A context for placeholder datasets, which may be built but never run. */
  readonly placeholderContext: DatasetContext;
  private readonly listeners: StreamingListener[] = [];
  private nextDatasetId = 0;
  private nextShuffleId = 0;
  /**
   * This driver's name in shuffle keys. Shuffle ids restart at 0 in every driver, and on Lambda a coordinator
   * frozen past its lease can run a batch beside its successor: without it both would write their map outputs
   * under the same keys, and each could read the other's bytes at its own offsets.
   */
  private readonly shuffleKeySpace = randomBytes(4).toString('hex');

  /** The prefix of every shuffle blob this driver writes for a batch (see `driverShufflePrefix`). */
  shuffleBlobsOf(batchTime: number): string {
    return driverShufflePrefix(batchTime, this.shuffleKeySpace);
  }
  private nextJobId = 0;
  /** The longest remember duration asked for with `remember`. */
  minRememberMs = 0;
  /** The files jsonl outputs append to, for the metadata checkpoint. */
  readonly jsonlPaths = new Set<string>();
  private connected: { env: StreamingEnv; dag: DAGScheduler } | undefined;

  constructor(options: StreamingContextOptions) {
    const { batchIntervalMs, defaultPartitions = 2, concurrentJobs = 1, maxTaskAttempts = 4 } = options;
    positiveInteger('batchIntervalMs', batchIntervalMs);
    positiveInteger('defaultPartitions', defaultPartitions);
    positiveInteger('concurrentJobs', concurrentJobs);
    positiveInteger('maxTaskAttempts', maxTaskAttempts);
    this.batchIntervalMs = batchIntervalMs;
    this.defaultPartitions = defaultPartitions;
    this.concurrentJobs = concurrentJobs;
    this.maxTaskAttempts = maxTaskAttempts;
    if (options.checkpointIntervalMs !== undefined)
      positiveInteger('checkpointIntervalMs', options.checkpointIntervalMs);
    this.checkpointIntervalMs = options.checkpointIntervalMs;
    this.blockIntervalMs = options.blockIntervalMs ?? DEFAULT_BLOCK_INTERVAL_MS;
    positiveInteger('blockIntervalMs', this.blockIntervalMs);
    this.speculation = options.speculation ?? {};
    // Built now so a bad setting fails at construction, not when a runtime connects.
    this.speculationPolicy = new SpeculationPolicy(this.speculation);
    this.shuffle = options.shuffle ?? {};
    validShuffleOptions(this.shuffle);
    this.deadLetterPolicy = new DeadLetterPolicy(options.deadLetters);
    this.backpressure = options.backpressure ?? {};
    if (this.backpressure.enabled) {
      this.listeners.push(new RateController(this.graph, batchIntervalMs, this.backpressure));
    }
    this.graphScope = new FnScope(this.functions, GRAPH_SCOPE);
    this.placeholderContext = {
      newDatasetId: () => -1,
      newShuffleId: () => -1,
      defaultPartitions,
      persistence: this.persistence,
      memoryBackedByStore: false,
      runJob: () => {
        throw new StreamGraphError('a transform function must not run actions (collect, count, take)');
      },
      outputStore: () => {
        throw new StreamGraphError('a transform function must not run actions (saveAsTextFile)');
      },
      parallelizeDataset: (data, numPartitions, scope) =>
        new ParallelDataset({ ctx: this.placeholderContext, scope, deps: [], numPartitions }, data),
    };
  }

  // ---- input streams -------------------------------------------------------------------------------------

  /**
   * A stream from any source; `partitions` defaults to `defaultPartitions`, `options` caps its rate
   * (`{ maxRatePerSec: 1000 }`).
   */
  sourceStream<T>(
    source: Source<T>,
    partitions = this.defaultPartitions,
    options: InputStreamOptions = {},
  ): DStream<T> {
    return new InputDStream(this, source, partitions, options);
  }

  /** Spark's queueStream: one queued batch per interval, then empty batches. */
  queueStream<T>(
    batches: T[][],
    options: { oneAtATime?: boolean; partitions?: number } & InputStreamOptions = {},
  ): DStream<T> {
    return this.sourceStream(new QueueSource(batches, options), options.partitions, options);
  }

  /** The built-in deterministic generator of tweets, text lines or key/value events. */
  generatorStream(
    options: GeneratorSourceOptions,
    partitions?: number,
    input?: InputStreamOptions,
  ): DStream<any> {
    return this.sourceStream(new GeneratorSource(options), partitions, input);
  }

  /**
   * Spark's textFileStream: the lines of new files appearing in a folder. The batch's tasks read the files, at most
   * `options.maxPartBytes` a task (128 MiB by default); a rate-limited stream (`maxRatePerSec`, backpressure) has
   * its lines read at the tick instead, to count them.
   */
  textFileStream(
    directory: string,
    partitions?: number,
    input?: InputStreamOptions,
    options: { readonly maxPartBytes?: number } = {},
  ): DStream<string> {
    const rateLimited = input?.maxRatePerSec !== undefined || this.backpressure.enabled === true;
    return this.sourceStream(
      new TextFileSource(directory, { readsDirectly: !rateLimited, ...options }),
      partitions,
      input,
    );
  }

  /** Spark's socketTextStream: lines of text read from a TCP server (`options`: its line limit, backoff). */
  socketTextStream(
    host: string,
    port: number,
    partitions?: number,
    options?: SocketSourceOptions,
    input?: InputStreamOptions,
  ): DStream<string> {
    return this.sourceStream(new SocketSource(host, port, options), partitions, input);
  }

  /**
   * Keeps every stream's datasets for at least `ms` after their batch (Spark's ssc.remember), so that `slice`
   * can reach back that far.
   */
  remember(ms: number): void {
    positiveInteger('remember duration', ms);
    this.minRememberMs = Math.max(this.minRememberMs, ms);
  }

  /** The union of several streams with the same slide interval. */
  union<T>(streams: DStream<T>[]): DStream<T> {
    return new UnionDStream(streams);
  }

  /** A function of several streams' datasets of the same batch. */
  transform<U>(
    streams: DStream<any>[],
    f: (datasets: Dataset<any>[], batchTime: number) => Dataset<U>,
  ): DStream<U> {
    return new TransformedDStream(streams, f);
  }

  // ---- static datasets -----------------------------------------------------------------------------------

  /**
   * The lines of a static text file, to join or filter a stream against inside `transform`. Made inside a stream's
   * body (at batch time), it belongs to that body's batch, as what the body makes from the body's own dataset does.
   */
  textFile(path: string, partitions = 1): Dataset<string> {
    return new TextFileDataset(
      { ctx: this, scope: this.bodyScope() ?? this.graphScope, deps: [], numPartitions: partitions },
      path,
    );
  }

  /**
   * An empty dataset of the graph, for a stream whose parent has no dataset at a batch time (Spark's empty RDD). Not
   * `parallelize`, which a stream's body running now would take for its own: a foreachRDD's job is found from any
   * code while it runs alone (`runningJob`), the scheduler's generation of later batches included.
   */
  emptyDataset<T>(partitions = 1): Dataset<T> {
    return this.parallelizeDataset<T>([], partitions, this.graphScope);
  }

  /** A small static dataset from an array; made inside a stream's body, it belongs to that batch (see `textFile`). */
  parallelize<T>(data: readonly T[], partitions = 1): Dataset<T> {
    return this.parallelizeDataset(data, partitions, this.bodyScope() ?? this.graphScope);
  }

  // ---- DatasetContext ------------------------------------------------------------------------------------

  newDatasetId(): number {
    return this.nextDatasetId++;
  }

  newShuffleId(): number {
    return this.nextShuffleId++;
  }

  parallelizeDataset<T>(data: readonly T[], numPartitions: number, scope: FnScope): Dataset<T> {
    return new ParallelDataset<T>({ ctx: this, scope, deps: [], numPartitions }, data);
  }

  /**
   * Plans a job for `dataset` and runs it on the connected runner, in `job`: by default the output job the
   * dataset's scope names (an output function's dataset, and those made from it), else the running output job
   * (a `foreachRDD` acting on another dataset, see `runInOutputJob`), else none (batch 0).
   */
  async runJob(dataset: Dataset, action: ActionSpec, job?: OutputJob): Promise<unknown[]> {
    if (this.refusesAction(action.type)) return new Promise(() => {});
    const { dag } = this.connection();
    const owner = job ?? dataset.scope?.job ?? runningJob();
    // A dataset an output's function made (`rdd.map(…)` in foreachRDD) has no stream to name it: a failure of it,
    // a task's or a dead letter's, names the output's line instead of a bare stage and partition.
    const bodyOrigin = dataset.scope?.origin;
    if (bodyOrigin !== undefined) dataset.tagOrigin(bodyOrigin);
    const batch = owner?.batch ?? new BatchRun(0);
    const lost = new Set<string>();
    for (;;) {
      const planStarted = performance.now();
      const plan = StagePlanner.plan(
        dataset,
        action,
        batch.batchTime,
        this.nextJobId++,
        this.persistence,
        this.shuffle,
        this.shuffleKeySpace,
      );
      const planningMs = performance.now() - planStarted;
      batch.planningMs += planningMs;
      batch.planningMsByJob.set(plan.jobId, planningMs);
      try {
        return await dag.runJob(plan, batch, owner?.outputOp ?? 0);
      } catch (error) {
        // A memory copy the plan relied on is gone (a worker restarted): forget it and plan from lineage. A lost
        // worker takes every copy it held, and a window reads many, each found missing by its own attempt; a copy
        // found missing again after it was forgotten means no progress, so that ends it.
        if (!(error instanceof CacheMissError) || lost.has(error.key)) throw error;
        lost.add(error.key);
        this.persistence.invalidateCache(error.key);
      }
    }
  }

  // ---- running -------------------------------------------------------------------------------------------

  /** Connects the context to storage and runners; a runtime calls this before the first batch. */
  connect(env: StreamingEnv): void {
    this.connected = {
      env,
      dag: new DAGScheduler(env.runner, env.driverRunner, this.persistence, {
        maxTaskAttempts: this.maxTaskAttempts,
        losers: this.losers,
        ...(env.log ? { log: env.log } : {}),
        ...((this.speculation.enabled ?? env.speculationByDefault === true)
          ? { speculation: this.speculationPolicy }
          : {}),
      }),
    };
  }

  /**
   * Runs a transform's function for one batch with `scope` as its body's (see `bodyScope`). A transform's function
   * returns synchronously, so the scope is held while it runs, in the driver and when a worker runs it again to learn
   * its functions' ids.
   */
  inBody<T>(scope: FnScope, run: () => T, body = 'a transform function'): T {
    const outer = this.syncBody;
    const outerRefused = this.refusedInBody;
    this.syncBody = scope;
    this.refusedInBody = undefined;
    try {
      const result = run();
      if (this.refusedInBody !== undefined) {
        throw new StreamGraphError(
          `${body} ran an action (its job: ${this.refusedInBody}); run actions (count, collect, sum, saveAsTextFile, …) in foreachRDD: a transform function only builds datasets, and a worker runs it again to learn their functions, where no action can run`,
        );
      }
      return result;
    } finally {
      this.syncBody = outer;
      this.refusedInBody = outerRefused;
    }
  }

  /**
   * True while a transform's function runs in the driver (see `inBody`), which refuses `action` once the function
   * returns. The function cannot await the action (it returns a dataset), so the caller gives a promise that never
   * settles rather than one rejected with no handler, which would end the process. A worker's placeholders refuse
   * actions too; without this the driver ran them (`--workers 0`), outside any batch, and worker threads failed.
   */
  refusesAction(action: string): boolean {
    if (this.syncBody === undefined) return false;
    this.refusedInBody ??= action;
    return true;
  }

  /** Notes the scope of a foreachRDD's body for its output job, which its function runs in (see `bodyScope`). */
  enterOutputBody(job: OutputJob, scope: FnScope): void {
    this.outputBodies.set(job, scope);
  }

  /** See `DatasetContext.bodyScope`: a transform's function running now, else the running foreachRDD's. */
  bodyScope(): FnScope | undefined {
    if (this.syncBody) return this.syncBody;
    const job = runningJob();
    return job === undefined ? undefined : this.outputBodies.get(job);
  }

  /** True while the job is being built (see `DatasetContext.building`): until the graph starts. */
  get building(): boolean {
    return !this.graph.isStarted;
  }

  /** See `DatasetContext.memoryBackedByStore`; false until a runtime connects. */
  get memoryBackedByStore(): boolean {
    return this.connected?.env.memoryBackedByStore ?? false;
  }

  /** See `DatasetContext.outputStore`: the connected environment's. */
  outputStore(): BlockStore {
    return this.env().outputs;
  }

  /** The connected environment, or a clear error when nothing connected the context yet. */
  env(): StreamingEnv {
    return this.connection().env;
  }

  private connection() {
    if (!this.connected) throw new StreamGraphError('the streaming context is not running: start it first');
    return this.connected;
  }

  /** Adds a listener for batch and output events. */
  addListener(listener: StreamingListener): void {
    this.listeners.push(listener);
  }

  /** Removes a listener. */
  removeListener(listener: StreamingListener): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /**
   * Cleanup (deleting blocks no batch needs) runs in the background; the scheduler waits for it at the end. A
   * deletion that fails is logged and leaves its blocks behind (a restart's restore deletes the stored datasets no
   * checkpoint lists), as Spark's ContextCleaner logs and goes on: left unhandled, its rejection ended the process.
   */
  cleanup(deletion: Promise<void>): void {
    const tracked = deletion
      .catch((error: unknown) => {
        this.connected?.env.log?.warn(
          `A background deletion of blocks no batch needs failed; they stay in the store: ${errorText(error)}`,
        );
      })
      .finally(() => this.cleanups.delete(tracked));
    this.cleanups.add(tracked);
  }

  /**
   * Deletes what tasks wrote for batches no one reads any more (persisted blocks, shuffle blobs, task reports): now,
   * and again in the background once the losing attempts running now settled. A loser cannot be stopped, and it
   * writes the same keys as the attempt that won, after this deletion if it ends late (see `LosingAttempts`).
   * Returns the first deletion; `deletion` must only ever delete what no batch reads again, since it runs twice.
   */
  deleteTaskWrites(deletion: () => Promise<void>): Promise<void> {
    const now = deletion();
    if (this.losers.size > 0) this.cleanup(this.losers.settled().then(deletion));
    return now;
  }

  /** Resolves when every background cleanup started so far is done. */
  async cleanupsDone(): Promise<void> {
    await Promise.allSettled([...this.cleanups]);
  }

  private readonly cleanups = new Set<Promise<void>>();

  /** Tells the listeners about one output batch. */
  emitOutput(event: OutputEvent): void {
    for (const l of this.listeners) l.onOutput?.(event);
  }

  /** The listeners, for the scheduler. */
  get streamingListeners(): readonly StreamingListener[] {
    return this.listeners;
  }
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
}

/** Refuses a shuffle setting the planner could not follow, naming the field and the value. */
function validShuffleOptions(options: ShuffleOptions): void {
  const combine = options.combine;
  if (combine !== undefined && combine !== 'auto' && combine !== 'always' && combine !== 'never') {
    throw new RangeError(
      `shuffle.combine must be 'auto', 'always' or 'never', got ${JSON.stringify(combine)}`,
    );
  }
  if (options.combineMinPairs !== undefined)
    positiveInteger('shuffle.combineMinPairs', options.combineMinPairs);
  if (options.maxMergeTasks !== undefined) positiveInteger('shuffle.maxMergeTasks', options.maxMergeTasks);
  const inline = options.inlineMaxBytes;
  if (inline !== undefined && (!Number.isInteger(inline) || inline < 0)) {
    throw new RangeError(
      `shuffle.inlineMaxBytes must be a whole number of bytes, got ${JSON.stringify(inline)}`,
    );
  }
}
