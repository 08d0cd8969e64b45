import type { ReceivedBlockRef } from '../dataset/ReceivedBlocksDataset';
import { CorruptCheckpointError } from '../errors';
import type { ReadPlan } from '../source/Source';
import type { BlockStore } from '../storage/BlockStore';
import type { WrittenDeadLetters } from './DeadLetterLedger';

/** The block key of the metadata checkpoint. */
export const METADATA_KEY = 'checkpoint/metadata.json';

/** An input block kept for a batch: where its partitions are and how many records it holds. */
export interface InputBlockInfo {
  /** The block's key in the store (absent in checkpoints written before blocks had a folder each). */
  readonly key?: string;
  readonly offsets: readonly number[];
  readonly records: number;
  /** For a source whose tasks read directly: what each task reads (the key names only the batch's folder). */
  readonly read?: ReadPlan;
  /** For a rate-limited direct source (the generator): the batch's index range [first, end), fixed when taken. */
  readonly range?: { readonly first: number; readonly end: number };
  /** For a receiving source (a socket): the blocks stored during the batch's interval, in the order they were cut. */
  readonly blocks?: readonly ReceivedBlockRef[];
}

/**
 * Spark's metadata checkpoint, as data (never serialized code): enough to restart a job where it stopped.
 * It is written after each batch is generated and after each batch completes.
 */
export interface CheckpointData {
  readonly version: 1;
  /** The job's name. */
  readonly jobName: string;
  /** The job document itself when the job is JSON (what was running). */
  readonly jobDocument?: unknown;
  /** The shape of the stream graph: a restart with changed functions but the same shape resumes. */
  readonly graphSignature: string;
  /**
   * The settings of the streams built from their own previous dataset (state, incremental windows), by stream id
   * (see `DStream.resumeSettings`): a restart under others is refused. Absent in checkpoints written before.
   */
  readonly resumeSettings?: Readonly<Record<string, string>>;
  readonly batchIntervalMs: number;
  /** Every batch up to this one completed, outputs included (0: none yet). */
  readonly lastCompletedBatch: number;
  /** Batches generated but not completed; a restart recomputes them. */
  readonly pendingBatches: readonly number[];
  /**
   * Input blocks, by input stream id and batch time: those of the pending batches, and those that recomputing
   * the next batches from the state checkpoints reads (everything else is deleted once this is written).
   */
  readonly inputs: Readonly<Record<string, Readonly<Record<string, InputBlockInfo>>>>;
  /** Source positions (the files a folder source has read), by input stream id. */
  readonly sources: Readonly<Record<string, unknown>>;
  /** Persisted datasets whose partitions are all in the block store (state checkpoints). */
  readonly stored: ReadonlyArray<{ readonly key: string; readonly numPartitions: number }>;
  /**
   * Output positions to roll back to (sizes of jsonl and dead-letter files), by absolute path locally (by the
   * output's own path in checkpoints written before). Built from a Map with
   * `Object.fromEntries`: a path may be any string, `__proto__` included.
   */
  readonly outputs: Readonly<Record<string, number>>;
  /**
   * The dataset partitions whose dead letters are written, with their batch times (see `DeadLetterLedger`): a
   * restart that computes one again writes none of its letters. Absent in checkpoints written before.
   */
  readonly deadLetters?: WrittenDeadLetters;
  /**
   * Backpressure's latest rate of each rate-limited input, records per second, by input stream id: a restart (on
   * Lambda, every coordinator handover) starts from it rather than from no bound at all. Absent in checkpoints
   * written before, and when backpressure is off.
   */
  readonly rates?: Readonly<Record<string, number>>;
  /**
   * True: the store writes an empty persisted partition as `[]`, so a block of 0 bytes is a damaged one (see
   * `encodePartition`). Absent in checkpoints written before, whose stored empty partitions a restart rewrites
   * as `[]` before it reads them.
   */
  readonly emptyPartitionsMarked?: true;
  readonly writtenAt: string;
}

/** Where a store's checkpoint is and how a user starts over, for the message of a damaged one. */
export interface CheckpointPlace {
  /** The checkpoint's path or key, as the user knows it. Default: its key in the store. */
  readonly file?: string;
  /** How to start the job over. Default: the serverless runtime's `"fresh": true` on a start event. */
  readonly startOver?: string;
}

/**
 * Reads the metadata checkpoint of a store, or undefined when the store has none. A checkpoint that is not JSON,
 * or not an object of the fields a restart reads first, is a `CorruptCheckpointError` naming the file.
 */
export async function readCheckpoint(
  store: BlockStore,
  place: CheckpointPlace = {},
): Promise<CheckpointData | undefined> {
  const bytes = await store.get(METADATA_KEY);
  return bytes ? parseCheckpoint(bytes, place) : undefined;
}

/** A metadata checkpoint's bytes as read, or a {@link CorruptCheckpointError} that names `place`. */
export function parseCheckpoint(bytes: Uint8Array, place: CheckpointPlace = {}): CheckpointData {
  const damaged = (reason: string) =>
    new CorruptCheckpointError(
      place.file ?? METADATA_KEY,
      reason,
      place.startOver ?? 'send the start event with "fresh": true',
    );
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw damaged(`it is not valid JSON: ${(error as Error).message}`);
  }
  const checkpoint = data as Partial<CheckpointData> | null;
  if (
    typeof checkpoint !== 'object' ||
    checkpoint === null ||
    checkpoint.version !== 1 ||
    typeof checkpoint.graphSignature !== 'string' ||
    typeof checkpoint.lastCompletedBatch !== 'number'
  ) {
    throw damaged('it is not a checkpoint of version 1 with a graphSignature and a lastCompletedBatch');
  }
  const problem = fieldProblem(checkpoint);
  if (problem !== undefined) throw damaged(problem);
  return checkpoint as CheckpointData;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * The first field of a checkpoint that is not of the type a restart reads, said as a reason (`its outputs is not
 * an object …`), or undefined. Read as they were, such fields failed the restart with a TypeError, and a batch time
 * off the interval (1500 of 1000 ms) resumed at 2500, 3500, … without a word.
 */
function fieldProblem(checkpoint: Partial<CheckpointData>): string | undefined {
  const interval = checkpoint.batchIntervalMs;
  if (!isCount(interval) || interval === 0) return 'its batchIntervalMs is not a positive whole number';
  const batchTime = (time: unknown) => isCount(time) && time % interval === 0;
  if (!batchTime(checkpoint.lastCompletedBatch)) {
    return `its lastCompletedBatch of ${JSON.stringify(checkpoint.lastCompletedBatch)} is not a batch time (a whole multiple of its batchIntervalMs of ${interval}, 0 or more)`;
  }
  const pending = checkpoint.pendingBatches;
  if (!Array.isArray(pending) || !pending.every(batchTime))
    return 'its pendingBatches is not a list of batch times';
  const inputs = checkpoint.inputs;
  if (
    !isObject(inputs) ||
    !Object.values(inputs).every(
      (blocks) =>
        isObject(blocks) &&
        Object.entries(blocks).every(
          ([time, info]) =>
            batchTime(Number(time)) && isObject(info) && Array.isArray(info.offsets) && isCount(info.records),
        ),
    )
  )
    return 'its inputs is not an object of input blocks by stream and batch time';
  if (!isObject(checkpoint.sources)) return 'its sources is not an object';
  const stored = checkpoint.stored;
  if (
    !Array.isArray(stored) ||
    !stored.every((s) => isObject(s) && typeof s.key === 'string' && isCount(s.numPartitions))
  )
    return 'its stored is not a list of {key, numPartitions}';
  if (!isObject(checkpoint.outputs) || !Object.values(checkpoint.outputs).every(isCount))
    return 'its outputs is not an object of file sizes';
  const letters = checkpoint.deadLetters;
  if (
    letters !== undefined &&
    !(
      Array.isArray(letters) &&
      letters.every((l) => Array.isArray(l) && typeof l[0] === 'string' && typeof l[1] === 'number')
    )
  )
    return 'its deadLetters is not a list of [key, batchTime]';
  const settings = checkpoint.resumeSettings;
  if (
    settings !== undefined &&
    !(isObject(settings) && Object.values(settings).every((v) => typeof v === 'string'))
  )
    return 'its resumeSettings is not an object of strings';
  const rates = checkpoint.rates;
  if (
    rates !== undefined &&
    !(
      isObject(rates) &&
      Object.values(rates).every((r) => typeof r === 'number' && Number.isFinite(r) && r > 0)
    )
  )
    return 'its rates is not an object of positive numbers of records per second';
  if (checkpoint.emptyPartitionsMarked !== undefined && checkpoint.emptyPartitionsMarked !== true)
    return 'its emptyPartitionsMarked is not true';
  return undefined;
}
