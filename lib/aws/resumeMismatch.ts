import type { DStreamGraph } from '../dstream/DStreamGraph';
import { CheckpointMismatchError } from '../errors';
import type { CheckpointData } from '../scheduler/CheckpointData';
import { checkpointMismatch } from '../scheduler/checkpointMismatch';
import { jobStorePrefix } from './bucketLayout';

/**
 * The refusal of a job whose graph cannot resume its checkpoint in the bucket (see `checkpointMismatch`), naming
 * the job's store and the start event that discards the checkpoint; undefined when it can resume, or has none.
 */
export function resumeMismatch(
  bucket: string,
  name: string,
  checkpoint: CheckpointData | undefined,
  graph: DStreamGraph,
): CheckpointMismatchError | undefined {
  const mismatch = checkpoint && checkpointMismatch(checkpoint, graph);
  if (!checkpoint || !mismatch) return undefined;
  return new CheckpointMismatchError(
    `s3://${bucket}/${jobStorePrefix(name)}`,
    checkpoint.jobName,
    mismatch,
    'send the start event with "fresh": true to discard it (the job starts over from its first batch; its outputs stay), or start the job under another name',
  );
}
