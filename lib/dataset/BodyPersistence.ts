import type { Dataset } from './Dataset';
import { type PersistSpec, type StorageLevel, streamPersistKey } from './StorageLevel';

/**
 * The last batch time whose tasks may read `dataset` again when a stream generated it as its dataset of a batch
 * (the dataset a body is handed): that batch plus how long the stream remembers it. Undefined for any other
 * dataset (one the body made).
 */
export type RememberedUntil = (dataset: Dataset) => number | undefined;

/**
 * The datasets a stream's body (the function of a `transform` or a `foreachRDD`) persisted for one batch. They are
 * named the way every process names them: the stream, the batch time, and the count of datasets the body persisted
 * before (`n7.0@2000`, `n7.1@2000`), since the body builds the same datasets every time it runs for that batch.
 * Dataset ids would not do: they are counted per process, so a restarted driver (or the next coordinator on Lambda)
 * gave a new dataset the id of an old run's and read that run's blocks, or a warm worker's memory copy, as its own.
 * The name carries the batch time, so the rules for a batch that did not complete reach these datasets (the metadata
 * checkpoint lists them only once their batch completed, and a restart computes them again otherwise), and the
 * stream unpersists them when it forgets the batch, as it does its own datasets.
 *
 * A dataset a stream generated (the one a body is handed: `rdd.persist()` inside foreachRDD) outlives the body's
 * batch when that stream remembers it longer (a window over a stream made from it reads it again): it is kept, and
 * unpersisted, with that stream's batch, as Spark's `clearMetadata` unpersists every RDD a stream generated. Dropped
 * with the body's batch, the next read computed it again and persisted it under this name, which nothing forgot.
 */
export class BodyPersistence {
  private readonly kept: Dataset[] = [];
  private count = 0;

  /**
   * @param streamId the id of the stream whose body runs (`n7`)
   * @param batchTime the batch it runs for
   * @param untilMs the last batch time whose tasks may read a memory copy: the stream's batch time plus how long
   *   the stream remembers it (a window over the transform reads it later), the batch time for a `foreachRDD`
   * @param rememberedUntil how long the stream that generated a dataset may read it (see {@link RememberedUntil})
   */
  constructor(
    readonly streamId: string,
    readonly batchTime: number,
    private readonly untilMs: number,
    private readonly rememberedUntil: RememberedUntil,
  ) {}

  /** How `dataset` is persisted at `level`, under the next name of this body's; it is unpersisted with the batch. */
  persist(dataset: Dataset, level: StorageLevel): PersistSpec {
    const key = streamPersistKey(`${this.streamId}.${this.count++}`, this.batchTime);
    const remembered = this.rememberedUntil(dataset);
    if (remembered === undefined) this.kept.push(dataset);
    return { key, level, untilMs: Math.max(this.untilMs, remembered ?? this.untilMs) };
  }

  /**
   * The datasets the body persisted that no stream generated, in the order it persisted them: those it made,
   * which no stream reads after this batch.
   */
  get datasets(): readonly Dataset[] {
    return this.kept;
  }
}
