import type { AnyFn } from './FnScope';
import type { MapPartitionsDataset } from './MapPartitionsDataset';
import type { PersistSpec } from './StorageLevel';

/** A record a function could not process, kept with the reason so nothing is dropped without a trace. */
export interface DeadLetter {
  /** The batch the record belongs to. */
  readonly batchTime: number;
  /** The dataset whose function failed, such as `mapPartitions#12`. */
  readonly dataset: string;
  /** The function's id in the job graph. */
  readonly fn: string;
  /** The error message. */
  readonly error: string;
  /** The record itself. */
  readonly record: unknown;
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
  /** A persisted partition held in this process's memory, or undefined. */
  cached(persist: PersistSpec, partition: number): unknown[] | undefined;
  /** One byte range of a block of the block store. */
  readBlockRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** A static text file named in the job (a spam list, a lookup table). */
  readText(path: string): Promise<string>;
  /**
   * The dataset with this id when a child may fuse with it into one pass: a per-record map of the same stage,
   * not persisted, with no other consumer in the stage.
   */
  fusable(datasetId: number): MapPartitionsDataset | undefined;
  /** How many dead letters the task has so far (to undo a fused pass that had to be redone). */
  deadLetterMark(): number;
  /** Drops the dead letters recorded after `mark`. */
  deadLetterReset(mark: number): void;
  /** Sends a record that a function could not process to the dead-letter output; the task goes on. */
  deadLetter(datasetLabel: string, fnId: string, record: unknown, error: unknown): void;
}
