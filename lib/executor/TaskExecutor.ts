import type { ActionSpec, ConsumeChunk, Dataset } from '../dataset/Dataset';
import { datasetTypes } from '../dataset/datasetTypes';
import type { FunctionTable } from '../dataset/FnScope';
import { recordsFromJson } from '../dataset/jsonNumber';
import { KeyedMap } from '../dataset/KeyedMap';
import { MapPartitionsDataset, type RecordCursor } from '../dataset/MapPartitionsDataset';
import type { PartitionCache } from '../dataset/PartitionCache';
import { letterKey } from '../dataset/pairOf';
import { loopsFor, type RecordLoops } from '../dataset/StageCode';
import { persistedBlock } from '../dataset/StateDelta';
import { inBlockStore, inMemory, type PersistSpec, persistBlockKey } from '../dataset/StorageLevel';
import type { DeadLetter, DeadLetterSource, TaskContext } from '../dataset/TaskContext';
import { textPartKey } from '../dataset/TextFileOps';
import { UnionDataset } from '../dataset/UnionDataset';
import { CacheMissError, errorText, FetchFailedError, MissingBlockError } from '../errors';
import type { MapStatus, PersistedPartition, TaskPlan, TaskResult } from '../plan/Plan';
import { crashPoint } from '../scheduler/crashPoint';
import { Aggregator } from '../shuffle/Aggregator';
import { mergedShuffleKey, mergeShuffle } from '../shuffle/ShuffleMerger';
import { type ShuffleInput, writeShuffle } from '../shuffle/ShuffleWriter';
import type { BlockLease, BlockStore } from '../storage/BlockStore';
import { decodeStoredSegment } from '../storage/SegmentedBlob';
import { formatRecordOf } from './formatRecord';

/** What a process that runs tasks provides: storage and the job graph's functions. */
export interface ExecutorEnv {
  /** Input blocks, shuffle data and cached datasets. */
  readonly store: BlockStore;
  /** Where `saveAsTextFiles` writes. */
  readonly outputs: BlockStore;
  /** The job graph's functions, rebuilt in this process. */
  readonly functions: FunctionTable;
  /** This process's memory tier of persisted partitions. */
  readonly cache: PartitionCache;
  /** Map outputs up to this size travel in task messages instead of storage. Default 64 KiB. */
  readonly inlineShuffleBytes?: number;
  /** Reads a static file named in the job. */
  readText(path: string): Promise<string>;
}

/** Runs one task from its JSON description alone: the same code in-process, in a worker thread or a Lambda. */
/** Map outputs up to this size skip storage (see `MapStatus.inline`). */
export const DEFAULT_INLINE_SHUFFLE_BYTES = 64 * 1024;

export class TaskExecutor {
  constructor(private readonly env: ExecutorEnv) {}

  /** Runs the task; a failure comes back as a result, never as an exception. */
  async run(task: TaskPlan): Promise<TaskResult> {
    const { stage, partition } = task;
    const started = performance.now();
    // Not by its own batch time: an earlier batch may still be running, and reading what this would drop.
    this.env.cache.evictBefore(task.evictBefore ?? task.batchTime);
    let tc: RunningTask | undefined;
    try {
      const datasets = new Map<number, Dataset>();
      for (const spec of stage.datasets) {
        const build = datasetTypes[spec.type];
        if (!build) throw new Error(`this executor cannot build datasets of type ${spec.type}`);
        datasets.set(spec.id, build(spec));
      }
      tc = new RunningTask(task, datasets, this.env, await loopsFor(stage));
      if (stage.shuffleMerge) return await this.merge(task, tc, started);
      const running = tc;
      // A record the map side refuses (not a pair, a combiner that throws) is dead-lettered as its stage input,
      // with the key of the pair it had become.
      const deadLetterAs = (original: unknown, refused: unknown, error: unknown) => {
        const { shuffleId, origin } = stage.shuffleWrite!;
        running.deadLetter(
          `shuffle#${shuffleId}`,
          partition,
          'combine',
          original,
          error,
          origin,
          letterKey(original, refused),
        );
      };
      const fail = (record: unknown, error: unknown, index?: number) => {
        const origins = index === undefined ? undefined : running.originsOf(stage.rootId, partition);
        deadLetterAs(origins && index !== undefined ? origins[index] : record, record, error);
      };
      const input = await this.rootRecords(tc, datasets.get(stage.rootId), task, deadLetterAs);
      const records: unknown[] = 'records' in input ? input.records : [];
      crashPoint('task', task.batchTime);
      let mapStatus: MapStatus | undefined;
      let result: unknown;
      let shuffleBytesWritten = 0;
      if (stage.shuffleWrite) {
        const written = await tc.timed(
          writeShuffle(
            stage.shuffleWrite,
            input,
            partition,
            task.batchTime,
            this.env.store,
            (id) => this.env.functions.get(id),
            fail,
            stage.shuffleWrite.inlineMaxBytes ?? this.env.inlineShuffleBytes ?? DEFAULT_INLINE_SHUFFLE_BYTES,
            task.speculative === true,
            tc.loops,
          ),
        ); // the bucketing before the write is counted too: it is small beside the write
        mapStatus = written.status;
        shuffleBytesWritten = written.bytes;
        tc.requests += written.requests;
      } else {
        result = await this.act(task.action ?? { type: 'collect' }, records, partition, tc);
      }
      tc.keepInMemory();
      return {
        ok: true,
        stageId: stage.stageId,
        partition,
        ...(mapStatus ? { mapStatus } : {}),
        ...(result !== undefined ? { result } : {}),
        metrics: {
          durationMs: performance.now() - started,
          storageMs: tc.storageMs,
          recordsOut: 'records' in input ? input.records.length : input.count,
          shuffleBytesWritten,
          shuffleBytesRead: tc.shuffleBytesRead,
          storageRequests: tc.requests,
        },
        deadLetters: tc.deadLetters,
        persisted: tc.persisted,
      };
    } catch (error) {
      return {
        ok: false,
        stageId: stage.stageId,
        partition,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        ...(tc?.failedOrigin !== undefined ? { origin: tc.failedOrigin } : {}),
        ...(tc?.failedStream !== undefined ? { stream: tc.failedStream } : {}),
        ...(error instanceof CacheMissError ? { cacheMiss: error.key } : {}),
        ...(error instanceof FetchFailedError
          ? { fetchFailed: { shuffleId: error.shuffleId, keys: [error.key, ...error.alsoMissing] } }
          : {}),
      };
    }
  }

  /** A merge task of a combining shuffle: its statuses are its group's map outputs (see `ShuffleMerger`). */
  private async merge(task: TaskPlan, tc: RunningTask, started: number): Promise<TaskResult> {
    const { shuffleId, keySpace } = task.stage.shuffleMerge!;
    const statuses = task.shuffleInputs[shuffleId];
    if (!statuses) throw new Error(`merge task has no map outputs for shuffle ${shuffleId}`);
    const key = mergedShuffleKey(
      task.batchTime,
      shuffleId,
      task.partition,
      task.speculative === true,
      keySpace,
    );
    const merged = await tc.timed(mergeShuffle(shuffleId, statuses, key, this.env.store));
    tc.requests += merged.requests;
    tc.shuffleBytesRead += merged.bytesRead;
    return {
      ok: true,
      stageId: task.stage.stageId,
      partition: task.partition,
      mapStatus: merged.status,
      metrics: {
        durationMs: performance.now() - started,
        storageMs: tc.storageMs,
        recordsOut: 0,
        shuffleBytesWritten: merged.bytesWritten,
        shuffleBytesRead: merged.bytesRead,
        storageRequests: tc.requests,
      },
      deadLetters: [],
      persisted: [],
    };
  }

  /**
   * The root's records; when a map stage combines on the map side and the root is a per-record map, its
   * records stream straight into the combiners instead (no array of every pair).
   */
  private async rootRecords(
    tc: RunningTask,
    root: Dataset | undefined,
    task: TaskPlan,
    deadLetterAs: (original: unknown, refused: unknown, error: unknown) => void,
  ): Promise<ShuffleInput> {
    const write = task.stage.shuffleWrite;
    const pass = tc.passSource(root, task.partition);
    if (
      write?.aggregator &&
      write.mapSideCombine &&
      pass.dataset instanceof MapPartitionsDataset &&
      pass.dataset.perRecord &&
      !pass.dataset.persistSpec
    ) {
      const aggregator = new Aggregator(write.aggregator, (id) => this.env.functions.get(id), tc.loops);
      const combined = new KeyedMap<unknown>();
      const cursor: RecordCursor = { origin: undefined };
      const failOrigin = (record: unknown, error: unknown) => deadLetterAs(cursor.origin, record, error);
      const { fold, folded } = aggregator.folder(combined, failOrigin);
      await pass.dataset.forEachRecord(pass.partition, tc, fold, cursor);
      return { combined, count: folded() };
    }
    return { records: await tc.partitionOf(task.stage.rootId, task.partition) };
  }

  private async act(
    action: ActionSpec,
    records: unknown[],
    partition: number,
    tc: RunningTask,
  ): Promise<unknown> {
    switch (action.type) {
      case 'collect':
        return records;
      case 'take':
        return records.slice(0, action.n);
      case 'count':
        return records.length;
      case 'saveText': {
        const text = records.map((r) => `${formatRecordOf(r, action.valueShape ?? 'plain')}\n`).join('');
        await tc.timed(this.env.outputs.put(textPartKey(action.path, partition), text));
        tc.requests++;
        return records.length;
      }
    }
  }
}

/** The task context of one running task: memoizes partitions and counts what the task reads. */
class RunningTask implements TaskContext {
  readonly batchTime: number;
  readonly deadLetters: DeadLetter[] = [];
  readonly persisted: PersistedPartition[] = [];
  requests = 0;
  storageMs = 0;
  shuffleBytesRead = 0;
  /** The origin of the innermost dataset whose computation failed (see `OpOrigin`), for the task's error. */
  failedOrigin: string | undefined;
  /** The stream whose own dataset is the innermost to fail (see `TaskResult.stream`), for the input streams' rows. */
  failedStream: string | undefined;
  private readonly computed = new Map<string, Promise<unknown[]>>();
  /** Persisted partitions this task computed, for the process's memory once it succeeds. */
  private readonly toKeep: { persist: PersistSpec; partition: number; records: unknown[] }[] = [];

  private readonly consumers = new Map<number, number>();

  constructor(
    private readonly task: TaskPlan,
    private readonly datasets: Map<number, Dataset>,
    private readonly env: ExecutorEnv,
    readonly loops: RecordLoops,
  ) {
    this.batchTime = task.batchTime;
    for (const spec of task.stage.datasets) {
      for (const dep of spec.deps)
        if (dep.type !== 'shuffle') this.consumers.set(dep.parent, (this.consumers.get(dep.parent) ?? 0) + 1);
    }
  }

  fusable(datasetId: number): MapPartitionsDataset | undefined {
    const ds = this.datasets.get(datasetId);
    return ds instanceof MapPartitionsDataset && ds.perRecord && this.readOnceInPass(ds) ? ds : undefined;
  }

  async forEachChunk(datasetId: number, partition: number, consume: ConsumeChunk): Promise<boolean> {
    const ds = this.datasets.get(datasetId);
    if (!ds?.forEachChunk || !this.readOnceInPass(ds)) return false;
    await this.attributed(ds, async () => {
      await ds.forEachChunk!(partition, this, consume);
      return [];
    });
    return true;
  }

  /**
   * Whether a dataset's records may go straight into its child's pass and nowhere else: it is not persisted (its
   * partition is not kept), its one consumer in the stage is that child, and it is not the stage's root (whose
   * records the task itself uses).
   */
  private readOnceInPass(ds: Dataset): boolean {
    return !ds.persistSpec && this.consumers.get(ds.id) === 1 && ds.id !== this.task.stage.rootId;
  }

  /**
   * The dataset and partition that a pass over partition `partition` of `ds` reads: through a union, which is
   * one of its parents' partitions as it is (Spark's UnionRDD), so that the map side of `count()` (a union with
   * its zero) streams its records into the combiners like any other map stage. Built as an array instead, each
   * record kept its stage-input line beside it (see `MapPartitionsDataset.compute`), and a line kept the whole
   * chunk it was cut from alive: collecting them took a third of the worker threads' time in Grep from a socket.
   */
  passSource(
    ds: Dataset | undefined,
    partition: number,
  ): { dataset: Dataset | undefined; partition: number } {
    let at = { dataset: ds, partition };
    while (at.dataset instanceof UnionDataset && !at.dataset.persistSpec) {
      const source = at.dataset.sourceOf(at.partition);
      at = { dataset: this.datasets.get(source.parent), partition: source.partition };
    }
    return at;
  }

  originsOf(datasetId: number, partition: number): readonly unknown[] | undefined {
    return this.datasets.get(datasetId)?.originsOf(partition, this);
  }

  partitionOf(datasetId: number, partition: number): Promise<unknown[]> {
    const key = `${datasetId}:${partition}`;
    let records = this.computed.get(key);
    if (!records) {
      const ds = this.datasets.get(datasetId);
      if (!ds) throw new Error(`dataset ${datasetId} is not part of stage ${this.task.stage.stageId}`);
      const persist = ds.persistSpec;
      records = this.attributed(ds, () =>
        persist && ds.type !== 'stored' && ds.type !== 'cached'
          ? this.computePersisted(ds, partition, persist)
          : ds.compute(partition, this),
      );
      this.computed.set(key, records);
    }
    return records;
  }

  /**
   * A partition's computation, whose failure names the dataset's origin. Parents are computed inside their
   * children, so the first dataset to see the failure is the innermost one: the op that failed.
   */
  private attributed(ds: Dataset, compute: () => Promise<unknown[]> | unknown[]): Promise<unknown[]> {
    let records: Promise<unknown[]>;
    try {
      records = Promise.resolve(compute());
    } catch (error) {
      records = Promise.reject(error);
    }
    const { origin, generatingStream } = ds;
    if (origin === undefined && generatingStream === undefined) return records;
    return records.catch((error: unknown) => {
      this.failedOrigin ??= origin;
      this.failedStream ??= generatingStream;
      throw error;
    });
  }

  /** A persisted dataset's partition: from memory when this process holds it, else computed and kept. */
  private async computePersisted(ds: Dataset, partition: number, persist: PersistSpec): Promise<unknown[]> {
    // Only a copy of this driver run's: one another run made (a warm worker outlives its coordinator) may be of a
    // batch that never completed, whose rerun must compute it to report its dead letters.
    const hit = this.cached(persist, partition);
    if (hit) return hit;
    const records = await ds.compute(partition, this);
    if (inBlockStore(persist.level)) {
      await this.timed(
        this.env.store.put(
          persistBlockKey(persist.key, partition),
          await persistedBlock(persist, partition, records, this),
        ),
      );
      this.requests++;
    }
    // Kept in memory only once the store has it: a retry after a failed write must write it again (a state
    // delta after it names it as its base), not find it in memory and skip the write. And only once the task
    // succeeds (see `RunningTask.keepInMemory`).
    if (inMemory(persist.level)) this.toKeep.push({ persist, partition, records });
    this.persisted.push({
      key: persist.key,
      partition,
      level: persist.level,
      numPartitions: ds.numPartitions,
    });
    return records;
  }

  /**
   * Puts the persisted partitions this task computed in the process's memory: called once the task succeeded.
   * A failed attempt keeps nothing, because its dead letters are dropped with it: a retry in the same process
   * that found the partition in memory would not compute it, and the letters of its rejected records would be
   * lost (the task's own memo serves its later reads meanwhile).
   */
  keepInMemory(): void {
    for (const { persist, partition, records } of this.toKeep)
      this.env.cache.put(persist, partition, records, this.task.driverRun);
  }

  /**
   * A copy of this driver run's only, as in `computePersisted`: a warm worker may hold another run's copy of a batch
   * that run never completed, which this run computed again (perhaps from other input); a read planned from the
   * store, or a state delta's base, then reads the store instead, and a read planned from memory replans.
   */
  cached(persist: PersistSpec, partition: number): unknown[] | undefined {
    return inMemory(persist.level) ? this.env.cache.get(persist, partition, this.task.driverRun) : undefined;
  }

  get storeMayEmptyBlocks(): boolean {
    return this.env.store.mayEmptyBlocks === true;
  }

  async readBlock(key: string): Promise<Uint8Array | undefined> {
    this.requests++;
    return this.timed(this.env.store.get(key));
  }

  async borrowBlock(key: string): Promise<BlockLease | undefined> {
    const { store } = this.env;
    if (!store.borrow) {
      const bytes = await this.readBlock(key);
      return bytes && { bytes, release: () => {} };
    }
    this.requests++;
    return this.timed(store.borrow(key));
  }

  async writeBlock(key: string, bytes: Uint8Array | string): Promise<void> {
    this.requests++;
    await this.timed(this.env.store.put(key, bytes));
  }

  fn(id: string) {
    return this.env.functions.get(id);
  }

  async shuffleRead(shuffleId: number, reducePartition: number): Promise<unknown[][]> {
    const statuses = this.task.shuffleInputs[shuffleId];
    if (!statuses) throw new Error(`task has no map outputs for shuffle ${shuffleId}`);
    const missing: string[] = [];
    const segments = await Promise.all(
      statuses.map(async (status) => {
        const start = status.offsets[reducePartition]!;
        const end = status.offsets[reducePartition + 1]!;
        if (start === end) return [];
        if (status.inline) {
          const text = status.inline[reducePartition];
          if (text === undefined)
            throw new Error(`inline map output of shuffle ${shuffleId} lacks partition ${reducePartition}`);
          this.shuffleBytesRead += end - start;
          return text.length === 0 ? [] : recordsFromJson(text);
        }
        this.shuffleBytesRead += end - start;
        // The block was written by a map task of this batch, which its status names: gone, it is recomputed, with
        // every other one found gone, so that the stage runs again once for all of them.
        return this.readSegment(status.key, start, end).catch((error: unknown) => {
          if (!(error instanceof MissingBlockError)) throw error;
          missing.push(status.key);
          return [];
        });
      }),
    );
    const [first, ...others] = missing;
    if (first !== undefined)
      throw new FetchFailedError({ shuffleId, key: first }, undefined, undefined, others);
    return segments;
  }

  async readSegment(key: string, start: number, end: number): Promise<unknown[]> {
    this.requests++;
    const { store } = this.env;
    if (!store.borrowRange)
      return decodeStoredSegment(key, await this.timed(store.getRange(key, start, end)));
    // Decoding makes strings of the bytes, so nothing views the lent memory once the records are made.
    const lease = await this.timed(store.borrowRange(key, start, end));
    try {
      return decodeStoredSegment(key, lease.bytes);
    } finally {
      lease.release();
    }
  }

  /**
   * Counts a storage call in the task's storage time: the wall time during which at least one call is in flight,
   * so that ranged reads issued together are not counted once each.
   */
  async timed<R>(call: Promise<R>): Promise<R> {
    if (this.inFlight++ === 0) this.storageSince = performance.now();
    try {
      return await call;
    } finally {
      if (--this.inFlight === 0) this.storageMs += performance.now() - this.storageSince;
    }
  }

  private inFlight = 0;
  private storageSince = 0;

  readText(path: string): Promise<string> {
    return this.env.readText(path);
  }

  deadLetter(
    datasetLabel: string,
    partition: number,
    fnId: string,
    record: unknown,
    error: unknown,
    op?: string,
    key?: unknown,
  ): void {
    this.deadLetters.push({
      batchTime: this.batchTime,
      dataset: datasetLabel,
      ...(op !== undefined ? { op } : {}),
      ...(key !== undefined ? { key: writableRecord(key) } : {}),
      fn: fnId,
      error: errorText(error),
      record: writableRecord(record),
      from: this.letterSource(datasetLabel, partition, op),
    });
  }

  private labels: Map<string, Dataset> | undefined;

  /**
   * The dataset partition a letter came from, by the name every process gives it: a recomputation of the same
   * partition, in another task, batch or process, rejects the same records, and the batch writes them once. A
   * map side's letter (`shuffle#n`) belongs to the stage's root partition and the op that reads the shuffle.
   *
   * The partition is the one the refusing dataset was computing, as it says itself, never one derived from the
   * task's: a task computes one partition of most datasets, but a coalesce's task several consecutive ones of its
   * parent (and of the parent's ancestors), and a cartesian product's task one of each side, both of one dataset
   * when it is crossed with itself. Named by any one partition of the task, the letters of the others would be
   * claimed under a name that another plan computing them (an output reading the dataset directly, another
   * product's task) does not give them, and written twice; named by the partition that refused them, each is
   * claimed once whatever plan computes it, and a retried or recomputed task, which computes the same partitions,
   * gives the same names.
   */
  private letterSource(datasetLabel: string, partition: number, op: string | undefined): DeadLetterSource {
    this.labels ??= new Map([...this.datasets.values()].map((ds) => [ds.toString(), ds]));
    const mapSide = datasetLabel.startsWith('shuffle#');
    const ds = mapSide ? this.datasets.get(this.task.stage.rootId) : this.labels.get(datasetLabel);
    const named = ds?.generatedAs;
    if (!named) return { dataset: datasetLabel, stable: false, batchTime: this.batchTime, partition };
    const name = `${named.stream}@${named.batchTime}/${named.path}`;
    return {
      dataset: mapSide ? `${name}>${op ?? datasetLabel}` : name,
      stable: true,
      batchTime: named.batchTime,
      partition,
    };
  }
}

/** The longest text of an unwritable record that a dead letter keeps. */
const UNWRITABLE_PREFIX_CHARS = 1024;

/**
 * The record as a dead letter can hold it: itself, or, when JSON cannot write it (nested thousands of levels
 * deep, a BigInt, a cycle), the start of its text, so that writing the dead letter cannot fail the task too.
 */
function writableRecord(record: unknown): unknown {
  try {
    JSON.stringify(record);
    return record;
  } catch {
    let text: string;
    try {
      text = String(record);
    } catch {
      text = Object.prototype.toString.call(record);
    }
    return { unwritable: text.slice(0, UNWRITABLE_PREFIX_CHARS) };
  }
}
