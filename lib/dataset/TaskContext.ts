import type { BlockLease } from '../storage/BlockStore';
import type { ConsumeChunk } from './Dataset';
import type { AnyFn } from './FnScope';
import type { MapPartitionsDataset } from './MapPartitionsDataset';
import type { RecordLoops } from './StageCode';
import type { PersistSpec } from './StorageLevel';

/** A record a function could not process, kept with the reason so nothing is dropped without a trace. */
export interface DeadLetter {
  /** The batch the record belongs to. */
  readonly batchTime: number;
  /** The dataset whose function failed, such as `mapPartitions#12`. */
  readonly dataset: string;
  /** The op that made that dataset, when known: `streams.counts.ops[2] (reduceByKey)` or `jobs/tweets.ts:14 (map)`. */
  readonly op?: string;
  /** The key, when a per-key op refused the record and `record` (the stage input) is not the pair itself. */
  readonly key?: unknown;
  /** The function's id in the job graph. */
  readonly fn: string;
  /** The error message. */
  readonly error: string;
  /**
   * The record as it entered the stage where it failed: the source's record (a line) before the first shuffle,
   * the `[key, value]` pair the shuffle delivered after it; never what an earlier op of the stage made of it.
   * A record JSON cannot write (nested too deep, a cycle) is kept as `{"unwritable": <its text, cut>}`.
   */
  readonly record: unknown;
  /**
   * Which computation gave the letter, for writing it once (see `DeadLetterLedger`); the batch takes it off
   * before the letter is written.
   */
  readonly from?: DeadLetterSource;
}

/** The dataset partition whose computation rejected a record. */
export interface DeadLetterSource {
  /**
   * The dataset's name: across processes when a stream generated it (`n3@4000/0.1`), else its label in this
   * process (a dataset built inside `foreachRDD` belongs to the running batch alone).
   */
  readonly dataset: string;
  /** True when `dataset` is the same in every process (see `GeneratedAs`). */
  readonly stable: boolean;
  /** The batch time it was generated for (stable), else the batch that computed it. */
  readonly batchTime: number;
  /**
   * The dataset's partition whose computation refused the record, which is not the task's: a union's task computes
   * a parent's partition under another number, a coalesce's several of its parent's.
   */
  readonly partition: number;
}

/** What a dataset may use while a task computes one of its partitions. */
export interface TaskContext {
  /** The batch the task belongs to. */
  readonly batchTime: number;
  /** Computes (once per task) a partition of another dataset of the same stage. */
  partitionOf(datasetId: number, partition: number): Promise<unknown[]>;
  /** Resolves a function id of the job graph. */
  fn(id: string): AnyFn;
  /** The records each map task wrote for `reducePartition` of a shuffle, in map-task order. */
  shuffleRead(shuffleId: number, reducePartition: number): Promise<unknown[][]>;
  /** A whole block of the block store, or undefined. */
  readBlock(key: string): Promise<Uint8Array | undefined>;
  /** Whether a block of the store may read back with 0 bytes no one wrote (see `BlockStore.mayEmptyBlocks`). */
  readonly storeMayEmptyBlocks?: boolean;
  /**
   * A whole block lent until `release` (see `BlockStore.borrow`), or undefined: for a block read once and
   * decoded at once, whose bytes nothing keeps.
   */
  borrowBlock(key: string): Promise<BlockLease | undefined>;
  /** A persisted partition held in this process's memory, or undefined. */
  cached(persist: PersistSpec, partition: number): unknown[] | undefined;
  /**
   * The records of one segment of a block of the block store, bytes [start, end) of it: a shuffle segment, an input
   * block's partition. A segment that is not the JSON Sluice wrote throws a `DamagedBlockError` naming the block.
   */
  readSegment(key: string, start: number, end: number): Promise<unknown[]>;
  /** Writes a block of the block store (a task's report into its batch's folder). */
  writeBlock(key: string, bytes: Uint8Array | string): Promise<void>;
  /** A static text file named in the job (a spam list, a lookup table). */
  readText(path: string): Promise<string>;
  /** The stage's own copy of the per-record loops (see `StageCode`). */
  readonly loops: RecordLoops;
  /**
   * The dataset with this id when a child may fuse with it into one pass: a per-record map of the same stage,
   * not persisted, with no other consumer in the stage.
   */
  fusable(datasetId: number): MapPartitionsDataset | undefined;
  /**
   * Hands a partition of a dataset of the same stage to `consume` chunk by chunk, never whole, when the dataset
   * can (`Dataset.forEachChunk`) and nothing else in the stage reads it (not persisted, one consumer, not the
   * stage's root); resolves to false, having read nothing, otherwise.
   */
  forEachChunk(datasetId: number, partition: number, consume: ConsumeChunk): Promise<boolean>;
  /**
   * The stage-input record each record of a computed partition came from (same index), when the dataset keeps
   * them (per-record maps do); undefined when every record is its own origin.
   */
  originsOf(datasetId: number, partition: number): readonly unknown[] | undefined;
  /**
   * Sends a record that a function could not process to the dead-letter output, naming the op (the dataset's
   * origin) when known; the task goes on. `partition` is the partition of the labelled dataset whose computation
   * refused the record: a task may compute several of one dataset (a coalesce, a cartesian product), and the
   * letter is written once by that partition's name (see `DeadLetterSource`).
   */
  deadLetter(
    datasetLabel: string,
    partition: number,
    fnId: string,
    record: unknown,
    error: unknown,
    op?: string,
    key?: unknown,
  ): void;
}
