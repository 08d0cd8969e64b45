import type { CheckpointData, InputBlockInfo } from './CheckpointData';

/**
 * Stream time after which a checkpoint is written even when it adds nothing but idle batches: it bounds how many
 * empty batches a restart runs again, and how long cleanup, which keeps everything after the newest checkpoint
 * written, keeps their metadata.
 */
export const IDLE_CHECKPOINT_EVERY_MS = 10_000;

/**
 * True when an input batch took something from its source: records, received blocks, a plan of reads, or a
 * range. A batch that took nothing gives nothing again when a restart runs it anew, from whatever source.
 */
export function tookInput(info: InputBlockInfo): boolean {
  return (
    info.records > 0 ||
    info.offsets.some((offset) => offset > 0) ||
    (info.blocks?.length ?? 0) > 0 ||
    (info.read?.parts.some((part) => part !== null) ?? false) ||
    (info.range !== undefined && info.range.end > info.range.first)
  );
}

/**
 * Decides whether a metadata checkpoint adds anything to the last one written. A job whose sources receive nothing
 * would otherwise write (and on S3, PUT) the same checkpoint twice a batch, moving only its batch times: a restart
 * from the older one runs those empty batches again, and they give the same empty datasets, so their outputs run
 * again as Spark's do for the batches after its last checkpoint (a `jsonl` output is no such case: every batch
 * appends a line, its position moves, and the checkpoint is written). Skipping them is Spark-compatible; it is
 * bounded by {@link IDLE_CHECKPOINT_EVERY_MS}, and a run writes the checkpoint it skipped when it ends.
 */
export class RedundantCheckpoints {
  private last: { readonly content: string; readonly lastCompletedBatch: number } | undefined;
  /**
   * The checkpoint judged last, serialized: `isRedundant`, `textOf` and `written` follow one another with the same
   * one, and its largest parts (the job document, the graph, the stored datasets) are serialized once for all three.
   */
  private judged: Serialized | undefined;
  /** A checkpoint built and not written because it was redundant: what a run's end writes. */
  private skipped = false;

  /**
   * True when `data` adds nothing to the last checkpoint written: every batch generated since took nothing from
   * its source (`busyThrough`, the newest that took something, is at most the last checkpoint's completed batch),
   * and everything else it records is the same.
   */
  isRedundant(data: CheckpointData, busyThrough: number): boolean {
    const last = this.last;
    const redundant =
      last !== undefined &&
      busyThrough <= last.lastCompletedBatch &&
      data.lastCompletedBatch - last.lastCompletedBatch < IDLE_CHECKPOINT_EVERY_MS &&
      this.serialized(data).content === last.content;
    if (redundant) this.skipped = true;
    return redundant;
  }

  /**
   * The checkpoint's JSON text, to write: the record `JSON.stringify(data)` writes, its fields in another order, made
   * of the parts {@link isRedundant} serialized.
   */
  textOf(data: CheckpointData): string {
    const { rest } = this.serialized(data);
    const { lastCompletedBatch, pendingBatches, inputs, writtenAt } = data;
    return `{${rest},${JSON.stringify({ lastCompletedBatch, pendingBatches, inputs, writtenAt }).slice(1)}`;
  }

  /** Records the checkpoint just written. */
  written(data: CheckpointData): void {
    this.last = { content: this.serialized(data).content, lastCompletedBatch: data.lastCompletedBatch };
    this.judged = undefined;
    this.skipped = false;
  }

  private serialized(data: CheckpointData): Serialized {
    if (this.judged?.data !== data) this.judged = serialize(data);
    return this.judged;
  }

  /** True when the newest checkpoint built was skipped, so the one on disk is older than the run. */
  get behind(): boolean {
    return this.skipped;
  }
}

/** A checkpoint serialized in parts. */
interface Serialized {
  readonly data: CheckpointData;
  /** The JSON of its fields besides its batch times and inputs, without the braces around them. */
  readonly rest: string;
  /** What it records besides its batch times and the batches that took nothing: `rest`, and the inputs taken. */
  readonly content: string;
}

function serialize(data: CheckpointData): Serialized {
  const { writtenAt, lastCompletedBatch, pendingBatches, inputs, ...others } = data;
  // `version` is always there: the braces removed, `rest` is never empty.
  const rest = JSON.stringify(others).slice(1, -1);
  const taken = Object.fromEntries(
    Object.entries(inputs).map(([id, byTime]) => [
      id,
      Object.fromEntries(Object.entries(byTime).filter(([, info]) => tookInput(info))),
    ]),
  );
  const pendingThatTook = pendingBatches.filter((time) =>
    Object.values(inputs).some((byTime) => {
      const info = byTime[String(time)];
      return info !== undefined && tookInput(info);
    }),
  );
  const content = `{${rest},${JSON.stringify({ inputs: taken, pendingBatches: pendingThatTook }).slice(1)}`;
  return { data, rest, content };
}
