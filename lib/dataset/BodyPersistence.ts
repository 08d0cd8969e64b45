import type { Dataset } from './Dataset';
import { type PersistSpec, type StorageLevel, streamPersistKey } from './StorageLevel';

/**
 * The datasets a stream's body (the function of a `transform` or a `foreachRDD`) persisted for one batch. They are
 * named the way every process names them: the stream, the batch time, and the count of datasets the body persisted
 * before (`n7.0@2000`, `n7.1@2000`), since the body builds the same datasets every time it runs for that batch.
 * Dataset ids would not do: they are counted per process, so a restarted driver (or the next coordinator on Lambda)
 * gave a new dataset the id of an old run's and read that run's blocks, or a warm worker's memory copy, as its own.
 * The name carries the batch time, so the rules for a batch that did not complete reach these datasets (the metadata
 * checkpoint lists them only once their batch completed, and a restart computes them again otherwise), and the
 * stream unpersists them when it forgets the batch, as it does its own datasets.
 */
export class BodyPersistence {
  private readonly kept: Dataset[] = [];

  /**
   * @param streamId the id of the stream whose body runs (`n7`)
   * @param batchTime the batch it runs for
   * @param untilMs the last batch time whose tasks may read a memory copy: the stream's batch time plus how long
   *   the stream remembers it (a window over the transform reads it later), the batch time for a `foreachRDD`
   */
  constructor(
    readonly streamId: string,
    readonly batchTime: number,
    private readonly untilMs: number,
  ) {}

  /** How `dataset` is persisted at `level`, under the next name of this body's; it is unpersisted with the batch. */
  persist(dataset: Dataset, level: StorageLevel): PersistSpec {
    const key = streamPersistKey(`${this.streamId}.${this.kept.length}`, this.batchTime);
    this.kept.push(dataset);
    return { key, level, untilMs: this.untilMs };
  }

  /** The datasets the body persisted, in the order it persisted them. */
  get datasets(): readonly Dataset[] {
    return this.kept;
  }
}
