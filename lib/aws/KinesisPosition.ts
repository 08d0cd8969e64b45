import { preview, SluiceError } from '../errors';

/** Where a `KinesisSource` is, as JSON for the metadata checkpoint. */
export interface KinesisPosition {
  /** The last sequence number handed out, per shard that is not finished yet. */
  readonly sequenceNumbers: Record<string, string>;
  /** Shards that are closed (by a reshard) and were read to their end, sorted. */
  readonly finishedShards: string[];
  /** With `startAt: 'LATEST'`: shards without a sequence number are read from this time, in ms since the epoch. */
  readonly sinceMs?: number;
  /**
   * Direct reads: per shard, the batches planned after its sequence number whose end is not known yet (their
   * cut, and where their task's report is), oldest first. Absent when there are none.
   */
  readonly unreported?: Record<string, UnreportedBatch[]>;
}

/** A batch planned for a shard whose task has not yet reported where the shard's range ended. */
export interface UnreportedBatch {
  /** The batch's cut, in ms since the epoch. */
  readonly cutMs: number;
  /** The key of the report of the task that reads the shard in that batch, in the job's store. */
  readonly report: string;
  /**
   * The most records the batch takes from the shard, when a rate limit made it less than `maxRecordsPerShard`:
   * a later plan's task reads past the batch by the same rule. Absent in checkpoints written before.
   */
  readonly maxRecords?: number;
}

/** Checks a checkpointed position (`description` names the source in the message), naming the field at fault. */
export function parseKinesisPosition(position: unknown, description: string): KinesisPosition {
  const fail = (path: string, expected: string, value: unknown) =>
    new SluiceError(
      `cannot restore ${description}: position${path} must be ${expected}, got ${preview(value)}`,
    );
  if (typeof position !== 'object' || position === null || Array.isArray(position)) {
    throw fail('', 'an object { sequenceNumbers, finishedShards }', position);
  }
  const { sequenceNumbers, finishedShards, sinceMs, unreported } = position as Record<string, unknown>;
  if (typeof sequenceNumbers !== 'object' || sequenceNumbers === null || Array.isArray(sequenceNumbers)) {
    throw fail('.sequenceNumbers', 'an object of shard id to sequence number', sequenceNumbers);
  }
  for (const [shardId, sequenceNumber] of Object.entries(sequenceNumbers)) {
    if (typeof sequenceNumber !== 'string' || !/^\d+$/.test(sequenceNumber)) {
      throw fail(
        `.sequenceNumbers[${JSON.stringify(shardId)}]`,
        'a sequence number (a string of digits)',
        sequenceNumber,
      );
    }
  }
  if (!Array.isArray(finishedShards) || !finishedShards.every((s) => typeof s === 'string')) {
    throw fail('.finishedShards', 'an array of shard ids', finishedShards);
  }
  if (sinceMs !== undefined && (typeof sinceMs !== 'number' || !Number.isFinite(sinceMs))) {
    throw fail('.sinceMs', 'a time in ms since the epoch', sinceMs);
  }
  if (unreported !== undefined) {
    if (typeof unreported !== 'object' || unreported === null || Array.isArray(unreported)) {
      throw fail('.unreported', 'an object of shard id to unreported batches', unreported);
    }
    for (const [shardId, batches] of Object.entries(unreported)) {
      const ok =
        Array.isArray(batches) &&
        batches.every(
          (b) =>
            typeof b === 'object' &&
            b !== null &&
            Number.isFinite((b as UnreportedBatch).cutMs) &&
            typeof (b as UnreportedBatch).report === 'string' &&
            ((b as UnreportedBatch).maxRecords === undefined ||
              Number.isSafeInteger((b as UnreportedBatch).maxRecords)),
        );
      if (!ok)
        throw fail(
          `.unreported[${JSON.stringify(shardId)}]`,
          'an array of { cutMs, report, maxRecords? }',
          batches,
        );
    }
  }
  return {
    sequenceNumbers: sequenceNumbers as Record<string, string>,
    finishedShards: finishedShards as string[],
    ...(sinceMs === undefined ? {} : { sinceMs: sinceMs as number }),
    ...(unreported === undefined ? {} : { unreported: unreported as Record<string, UnreportedBatch[]> }),
  };
}
