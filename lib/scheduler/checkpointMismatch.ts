import type { DStreamGraph } from '../dstream/DStreamGraph';
import { InputDStream } from '../dstream/InputDStream';
import type { CheckpointData } from './CheckpointData';

/**
 * Why a job's stream graph cannot resume a metadata checkpoint, completing "a checkpoint of job … ", or undefined
 * when it can. Functions may change; the shape (stream ids, kinds, slides) may not, nor the settings a state or an
 * incremental window was checkpointed with: read back under 2 partitions, a state checkpointed in 3 partitions
 * lost the keys of the third and met new records in the wrong partition (each such key twice, its count started
 * over), and a window of 3 s resumed as one of 5 s kept its 3 s values for good. Nor may a source whose position
 * the checkpoint keeps become one of another kind, which could not read it, or read another folder, bucket or stream,
 * where the names it took in the old one skipped the same names unread. Spark restores the old folder from its
 * checkpoint and reads on there whatever the new code says; a refusal tells the user instead.
 */
export function checkpointMismatch(checkpoint: CheckpointData, graph: DStreamGraph): string | undefined {
  if (checkpoint.graphSignature !== graph.signature()) return 'whose stream graph has another shape';
  // A checkpoint written before the settings were recorded resumes on its shape alone.
  const before = new Map(Object.entries(checkpoint.resumeSettings ?? {}));
  const positions = new Map(Object.entries(checkpoint.sources));
  for (const [id, now] of Object.entries(graph.resumeSettings())) {
    const then = before.get(id);
    if (then === undefined || then === now) continue;
    const stream = graph.node(id);
    // A checkpoint written before sources recorded where they read (`a textFile source`) resumes on the kind.
    if (stream instanceof InputDStream && now.startsWith(`${then} reading `)) continue;
    const named = `${stream?.origin ?? stream?.name ?? id}`;
    if (stream instanceof InputDStream) {
      // Only a position kept for it binds a source to its kind: one that took its batches by time may change.
      if (!positions.has(id)) continue;
      return (
        `whose ${named} was ${then}, where the job now makes it ${now}: the checkpoint keeps how far the old ` +
        'source was read, which the new one cannot take up (set it back to resume)'
      );
    }
    return (
      `whose ${named} has ${then}, where the job now gives it ${now}: its checkpointed state was computed under ` +
      'the old ones and cannot carry over (set them back to resume)'
    );
  }
  return undefined;
}
